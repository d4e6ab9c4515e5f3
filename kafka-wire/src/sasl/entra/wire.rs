//! The HTTP side of the Entra ID provider: token URLs, bounded body reads, token-response and
//! error parsing, secret scrubbing. No state; [`super::EntraTokenProvider`] drives it.

use super::*;

pub(super) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The values of `names`, or an error naming every missing one.
pub(super) fn required<const N: usize>(
    env: &dyn Fn(&str) -> Option<String>,
    names: [&str; N],
    what: &str,
) -> Result<[String; N], String> {
    let values = names.map(env);
    let missing: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Entra ID {what}: environment variable{} {} not set",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    Ok(values.map(Option::unwrap_or_default))
}

pub(super) fn now_ms() -> Result<i64, String> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_owned())?;
    Ok(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// The rustls configuration: this crate's crypto provider and Mozilla's roots.
pub(super) fn default_tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = crate::tls_provider::provider().map_err(|e| format!("Entra ID: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("Entra ID: TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// `{authority_host}/{tenant_id}/oauth2/v2.0/token`, checked: an HTTPS authority (HTTP only on
/// loopback) and a tenant that is an id or a domain name.
pub(super) fn token_url(authority_host: &str, tenant_id: &str) -> Result<reqwest::Url, String> {
    if tenant_id.is_empty()
        || !tenant_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!(
            "invalid tenant id {:?}: expected a directory id or a domain name",
            crate::sasl::sanitize(tenant_id.as_bytes())
        ));
    }
    let text = format!(
        "{}/{tenant_id}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/')
    );
    let url = reqwest::Url::parse(&text).map_err(|e| {
        format!(
            "invalid authority host {:?}: {e}",
            crate::sasl::sanitize(authority_host.as_bytes())
        )
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(format!(
            "authority host {:?} must be https:// (http:// only on a loopback address)",
            crate::sasl::sanitize(authority_host.as_bytes())
        )),
    }
}

pub(super) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The URL for messages: scheme, host, port and path (no query, no user info).
pub(super) fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The federated token: the file's contents, trimmed, at most 64 KiB.
pub(super) fn read_federated_token(path: &std::path::Path) -> Result<String, String> {
    let cannot = |e: &dyn fmt::Display| {
        format!(
            "cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {e}",
            path.display()
        )
    };
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FEDERATED_TOKEN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_FEDERATED_TOKEN_BYTES {
        return Err(cannot(&format_args!(
            "larger than {MAX_FEDERATED_TOKEN_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| cannot(&"not UTF-8"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(cannot(&"the file is empty"));
    }
    Ok(token.to_owned())
}

/// The response body, at most [`MAX_RESPONSE_BYTES`].
pub(super) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || format!("the response is larger than {MAX_RESPONSE_BYTES} bytes");
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read the response: {}", chain(&e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `: error: error_description` of an Entra ID (or App Service `message`) error response.
pub(super) fn error_details(body: &[u8]) -> String {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return if body.is_empty() {
            String::new()
        } else {
            format!(" (the {}-byte body is not JSON)", body.len())
        };
    };
    let field = |name: &str| match json.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(crate::sasl::sanitize(s.as_bytes())),
        _ => None,
    };
    let mut out = String::new();
    for part in [
        field("error"),
        field("error_description").or_else(|| field("message")),
    ]
    .into_iter()
    .flatten()
    {
        out.push_str(": ");
        out.push_str(&part);
    }
    out
}

/// A token response: `access_token` and `expires_in` (seconds, number or string) or
/// `expires_on` (seconds since the epoch), optionally `refresh_in` (seconds).
pub(super) fn parse_token_response(body: &[u8], now_ms: i64) -> Result<Cached, String> {
    let json = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(json)) => json,
        _ => {
            return Err(format!(
                "the {}-byte response is not a JSON object",
                body.len()
            ))
        }
    };
    let access_token = match json.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t,
        _ => return Err("the response has no access_token".to_owned()),
    };
    let seconds = |name: &str| -> Result<Option<i64>, String> {
        match json.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match as_seconds(v) {
                Some(s) if s >= 0 => Ok(Some(s)),
                _ => Err(format!("the response's {name} is not a number of seconds")),
            },
        }
    };
    let lifetime_ms = match (seconds("expires_in")?, seconds("expires_on")?) {
        (Some(expires_in), _) => now_ms.saturating_add(expires_in.saturating_mul(1000)),
        (None, Some(expires_on)) => expires_on.saturating_mul(1000),
        (None, None) => return Err("the response has no expires_in or expires_on".to_owned()),
    };
    let remaining = lifetime_ms.saturating_sub(now_ms).max(0);
    let mut refresh_at_ms = lifetime_ms - REFRESH_MARGIN_MS.min(remaining / 5);
    if let Ok(Some(refresh_in)) = seconds("refresh_in") {
        refresh_at_ms = refresh_at_ms.min(now_ms.saturating_add(refresh_in.saturating_mul(1000)));
    }
    let token = OAuthBearerToken::new(access_token.as_str(), lifetime_ms)
        .map_err(|e| format!("the access_token is unusable: {e}"))?;
    Ok(Cached {
        token,
        refresh_at_ms,
    })
}

pub(super) fn as_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An error and its sources, `: `-separated.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `message` with every secret replaced by `<redacted>`.
pub(super) fn scrub(mut message: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if message.contains(secret.as_str()) {
            message = message.replace(secret.as_str(), "<redacted>");
        }
    }
    message
}
