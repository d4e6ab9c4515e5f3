//! `security.protocol`, TLS (`ssl.*`) and SASL (`sasl.*`) settings, under the Java client's and
//! librdkafka's property names.

use std::path::PathBuf;

use super::table::{ConfigKey, ValueKind};
use crate::sasl::oauthbearer::SaslExtensions;
use crate::sasl::{Mechanism, TokenProviderHandle, UnsecuredJwt};
pub use crate::secret::Secret;

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityProtocol {
    /// Plain TCP, no authentication (the default).
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL over plain TCP.
    SaslPlaintext,
    /// SASL over TLS (what Azure Event Hubs and most managed clusters require).
    SaslSsl,
}

impl SecurityProtocol {
    /// Whether the connection is wrapped in TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether the connection authenticates with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// TLS and SASL settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityConfig {
    /// `security.protocol`.
    pub protocol: SecurityProtocol,
    /// `ssl.ca.location` (or `ssl.truststore.location` with a PEM file): the CA certificates
    /// to trust; unset means the built-in Mozilla roots (feature `webpki-roots`).
    pub ssl_ca_location: Option<PathBuf>,
    /// `ssl.certificate.location`: the client certificate chain (PEM) for mutual TLS.
    pub ssl_certificate_location: Option<PathBuf>,
    /// `ssl.key.location`: the client private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub ssl_key_location: Option<PathBuf>,
    /// `ssl.endpoint.identification.algorithm` (default `https`): check that the broker's
    /// certificate names the host connected to. Setting it to empty or `none` turns the check
    /// off (as in Java); every connection then logs a warning.
    pub ssl_verify_hostname: bool,
    /// `sasl.mechanism` (default `PLAIN`).
    pub sasl_mechanism: Mechanism,
    /// `sasl.username` (or the `username` of `sasl.jaas.config`).
    pub sasl_username: Option<String>,
    /// `sasl.password` (or the `password` of `sasl.jaas.config`). Never printed.
    pub sasl_password: Option<Secret>,
    /// Where OAUTHBEARER tokens come from: set it in code, or use
    /// `enable.sasl.oauthbearer.unsecure.jwt=true` with `sasl.oauthbearer.config=principal=NAME`
    /// (librdkafka's names) for unsigned development tokens.
    pub oauthbearer_token_provider: Option<TokenProviderHandle>,
    /// SASL extensions sent with every OAUTHBEARER token (KIP-342): `sasl.oauthbearer.extensions`
    /// (`key=value,key=value`, librdkafka's name), or `extension_KEY="value"` /
    /// `unsecuredLoginExtension_KEY="value"` options of an `OAuthBearerLoginModule` in
    /// `sasl.jaas.config` (Java's). Extensions from the token provider take precedence.
    pub sasl_oauthbearer_extensions: SaslExtensions,
    /// `enable.sasl.oauthbearer.unsecure.jwt`.
    unsecure_jwt: bool,
    /// `principal=` of `sasl.oauthbearer.config`.
    unsecure_jwt_principal: Option<String>,
}

impl SecurityConfig {
    /// Defaults: PLAINTEXT, hostname verification on, PLAIN.
    pub fn new() -> Self {
        SecurityConfig {
            protocol: SecurityProtocol::Plaintext,
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_verify_hostname: true,
            sasl_mechanism: Mechanism::Plain,
            sasl_username: None,
            sasl_password: None,
            oauthbearer_token_provider: None,
            sasl_oauthbearer_extensions: SaslExtensions::new(),
            unsecure_jwt: false,
            unsecure_jwt_principal: None,
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// The configuration keys of TLS and SASL (`security.protocol`, `ssl.*`, `sasl.*`).
pub const SECURITY_TABLE: &[ConfigKey<SecurityConfig>] = &[
    ConfigKey {
        name: "security.protocol",
        kind: ValueKind::Choice(&["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]),
        default: "PLAINTEXT",
        doc: "How to talk to brokers: TLS or not, SASL or not.",
        set: |c, v| set_key(c, "security.protocol", v),
        get: |c| {
            match c.protocol {
                SecurityProtocol::Plaintext => "PLAINTEXT",
                SecurityProtocol::Ssl => "SSL",
                SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
                SecurityProtocol::SaslSsl => "SASL_SSL",
            }
            .into()
        },
    },
    ConfigKey {
        name: "ssl.ca.location",
        kind: ValueKind::Path,
        default: "",
        doc: "CA certificates to trust (PEM file), or `probe` for the system bundle; unset: Mozilla's roots.",
        set: |c, v| set_key(c, "ssl.ca.location", v),
        get: |c| path(&c.ssl_ca_location),
    },
    ConfigKey {
        name: "ssl.truststore.location",
        kind: ValueKind::Path,
        default: "",
        doc: "Java's name for `ssl.ca.location` (a PEM file).",
        set: |c, v| set_key(c, "ssl.truststore.location", v),
        get: |c| path(&c.ssl_ca_location),
    },
    ConfigKey {
        name: "ssl.certificate.location",
        kind: ValueKind::Path,
        default: "",
        doc: "Client certificate chain (PEM) for mutual TLS.",
        set: |c, v| set_key(c, "ssl.certificate.location", v),
        get: |c| path(&c.ssl_certificate_location),
    },
    ConfigKey {
        name: "ssl.key.location",
        kind: ValueKind::Path,
        default: "",
        doc: "Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for mutual TLS.",
        set: |c, v| set_key(c, "ssl.key.location", v),
        get: |c| path(&c.ssl_key_location),
    },
    ConfigKey {
        name: "ssl.endpoint.identification.algorithm",
        kind: ValueKind::Choice(&["https", "none"]),
        default: "https",
        doc: "Check that the broker's certificate names the host (`https`); empty or `none` turns it off.",
        set: |c, v| set_key(c, "ssl.endpoint.identification.algorithm", v),
        get: |c| if c.ssl_verify_hostname { "https" } else { "none" }.into(),
    },
    ConfigKey {
        name: "sasl.mechanism",
        kind: ValueKind::Choice(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]),
        default: "PLAIN",
        doc: "The SASL mechanism.",
        set: |c, v| set_key(c, "sasl.mechanism", v),
        get: |c| c.sasl_mechanism.name().into(),
    },
    ConfigKey {
        name: "sasl.mechanisms",
        kind: ValueKind::Choice(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]),
        default: "PLAIN",
        doc: "librdkafka's name for `sasl.mechanism`.",
        set: |c, v| set_key(c, "sasl.mechanisms", v),
        get: |c| c.sasl_mechanism.name().into(),
    },
    ConfigKey {
        name: "sasl.username",
        kind: ValueKind::Text,
        default: "",
        doc: "SASL user name (PLAIN, SCRAM).",
        set: |c, v| set_key(c, "sasl.username", v),
        get: |c| c.sasl_username.clone().unwrap_or_default(),
    },
    ConfigKey {
        name: "sasl.password",
        kind: ValueKind::Secret,
        default: "",
        doc: "SASL password (PLAIN, SCRAM); never printed.",
        set: |c, v| set_key(c, "sasl.password", v),
        get: |c| secret(c.sasl_password.is_some()),
    },
    ConfigKey {
        name: "sasl.jaas.config",
        kind: ValueKind::Secret,
        default: "",
        doc: "Java's login module line: `username`/`password` for PLAIN/SCRAM, unsecured-JWT and extension options for OAUTHBEARER.",
        set: |c, v| set_key(c, "sasl.jaas.config", v),
        get: |c| secret(c.sasl_password.is_some()),
    },
    ConfigKey {
        name: "enable.sasl.oauthbearer.unsecure.jwt",
        kind: ValueKind::Boolean,
        default: "false",
        doc: "Unsigned OAUTHBEARER tokens for development (librdkafka's name).",
        set: |c, v| set_key(c, "enable.sasl.oauthbearer.unsecure.jwt", v),
        get: |c| c.unsecure_jwt.to_string(),
    },
    ConfigKey {
        name: "sasl.oauthbearer.config",
        kind: ValueKind::Text,
        default: "",
        doc: "`principal=NAME` of the unsigned development tokens.",
        set: |c, v| set_key(c, "sasl.oauthbearer.config", v),
        get: |c| {
            c.unsecure_jwt_principal
                .as_deref()
                .map(|p| format!("principal={p}"))
                .unwrap_or_default()
        },
    },
    ConfigKey {
        name: "sasl.oauthbearer.extensions",
        kind: ValueKind::List,
        default: "",
        doc: "SASL extensions sent with OAUTHBEARER tokens (KIP-342): `key=value,key=value`.",
        set: |c, v| set_key(c, "sasl.oauthbearer.extensions", v),
        get: |c| {
            c.sasl_oauthbearer_extensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        },
    },
];

fn path(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn secret(set: bool) -> String {
    if set { "<redacted>" } else { "" }.into()
}

fn set_key(c: &mut SecurityConfig, key: &str, value: &str) -> Result<(), String> {
    let v = value.trim();
    match key {
        "security.protocol" => {
            c.protocol = match v.to_ascii_uppercase().as_str() {
                "PLAINTEXT" => SecurityProtocol::Plaintext,
                "SSL" => SecurityProtocol::Ssl,
                "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
                "SASL_SSL" => SecurityProtocol::SaslSsl,
                _ => return Err("PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL".to_owned()),
            }
        }
        "ssl.ca.location" | "ssl.truststore.location" => {
            c.ssl_ca_location = (!v.is_empty()).then(|| PathBuf::from(v))
        }
        "ssl.certificate.location" => {
            c.ssl_certificate_location = (!v.is_empty()).then(|| PathBuf::from(v))
        }
        "ssl.key.location" => c.ssl_key_location = (!v.is_empty()).then(|| PathBuf::from(v)),
        "ssl.endpoint.identification.algorithm" => {
            c.ssl_verify_hostname = match v.to_ascii_lowercase().as_str() {
                "https" => true,
                "" | "none" => false,
                _ => return Err("https, or empty/none to disable".to_owned()),
            }
        }
        "sasl.mechanism" | "sasl.mechanisms" => {
            c.sasl_mechanism = Mechanism::from_name(v)
                .ok_or_else(|| "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER".to_owned())?
        }
        "sasl.username" => c.sasl_username = Some(value.to_owned()),
        "sasl.password" => c.sasl_password = Some(Secret::new(value)),
        "sasl.jaas.config" => {
            let options = parse_jaas(v)
                .ok_or_else(|| "a login module with key=\"value\" options".to_owned())?;
            if v.contains("OAuthBearerLoginModule") {
                // Java's unsecured login handler takes the principal from the `sub` claim.
                if let Some(sub) = options.get("unsecuredLoginStringClaim_sub") {
                    c.unsecure_jwt = true;
                    c.unsecure_jwt_principal = Some(sub.clone());
                    c.refresh_unsecure_jwt();
                }
                for (k, val) in &options {
                    let ext = k
                        .strip_prefix("unsecuredLoginExtension_")
                        .or_else(|| k.strip_prefix("extension_"));
                    if let Some(ext) = ext {
                        c.sasl_oauthbearer_extensions
                            .insert(ext, val.as_str())
                            .map_err(|e| e.to_string())?;
                    }
                }
            } else {
                let (Some(user), Some(password)) =
                    (options.get("username"), options.get("password"))
                else {
                    return Err("a login module with username=\"...\" password=\"...\"".to_owned());
                };
                c.sasl_username = Some(user.clone());
                c.sasl_password = Some(Secret::new(password));
            }
        }
        "sasl.oauthbearer.extensions" => {
            let mut extensions = SaslExtensions::new();
            for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (k, val) = pair
                    .split_once('=')
                    .ok_or_else(|| "key=value,key=value".to_owned())?;
                extensions
                    .insert(k.trim(), val)
                    .map_err(|e| e.to_string())?;
            }
            c.sasl_oauthbearer_extensions = extensions;
        }
        "enable.sasl.oauthbearer.unsecure.jwt" => {
            c.unsecure_jwt = match v {
                "true" => true,
                "false" => false,
                _ => return Err("true or false".to_owned()),
            };
            c.refresh_unsecure_jwt();
        }
        "sasl.oauthbearer.config" => {
            c.unsecure_jwt_principal = v
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix("principal="))
                .map(str::to_owned);
            c.refresh_unsecure_jwt();
        }
        _ => return Err(format!("a key this table does not have: {key}")),
    }
    Ok(())
}

impl SecurityConfig {
    fn refresh_unsecure_jwt(&mut self) {
        if let (true, Some(p)) = (self.unsecure_jwt, &self.unsecure_jwt_principal) {
            self.oauthbearer_token_provider = Some(TokenProviderHandle(std::sync::Arc::new(
                UnsecuredJwt::new(p.clone()),
            )));
        }
    }
}

/// The options of a JAAS login module line:
/// `org.apache.kafka...PlainLoginModule required username="u" password="p";` → {username: u,
/// password: p}. Values are quoted (with `\` escapes) or bare words. `None` if malformed.
fn parse_jaas(s: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let mut options = std::collections::BTreeMap::new();
    let mut rest = s.trim().trim_end_matches(';');
    // The class name and the control flag come first.
    for _ in 0..2 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if rest[..end].contains('=') {
            break;
        }
        rest = &rest[end..];
    }
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some(options);
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        rest = &rest[eq + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, ch)) = chars.next() {
                match ch {
                    '\\' => out.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => out.push(c),
                }
            }
            rest = &quoted[end?..];
            out
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = rest[..end].to_owned();
            rest = &rest[end..];
            word
        };
        options.insert(name.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set one key through the table, as `ClientConfig::set` does.
    fn apply(
        c: &mut SecurityConfig,
        key: &str,
        value: &str,
    ) -> Result<bool, super::super::ConfigError> {
        super::super::table::set(SECURITY_TABLE, c, key, value)
    }

    #[test]
    fn jaas_config_is_parsed_and_never_printed() {
        let mut c = SecurityConfig::new();
        apply(
            &mut c,
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="$ConnectionString" password="Endpoint=sb://x/;Key=a\"b";"#,
        )
        .expect("parses");
        assert_eq!(c.sasl_username.as_deref(), Some("$ConnectionString"));
        assert_eq!(
            c.sasl_password.as_ref().map(Secret::expose),
            Some("Endpoint=sb://x/;Key=a\"b")
        );
        assert!(!format!("{c:?}").contains("Key=a"), "{c:?}");
        let err = apply(&mut c, "sasl.jaas.config", "password=\"hunter2\"").expect_err("no user");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn oauthbearer_extensions_from_both_spellings() {
        let mut c = SecurityConfig::new();
        apply(
            &mut c,
            "sasl.oauthbearer.extensions",
            "logicalCluster=lkc-abc, identityPoolId=pool-1",
        )
        .expect("parses");
        assert_eq!(
            c.sasl_oauthbearer_extensions.get("logicalCluster"),
            Some("lkc-abc")
        );
        assert_eq!(c.sasl_oauthbearer_extensions.len(), 2);
        assert!(apply(&mut c, "sasl.oauthbearer.extensions", "auth=x").is_err());
        assert!(apply(&mut c, "sasl.oauthbearer.extensions", "novalue").is_err());

        let mut j = SecurityConfig::new();
        apply(
            &mut j,
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice" unsecuredLoginExtension_traceId="t-1" extension_logicalCluster=lkc-9;"#,
        )
        .expect("parses");
        assert_eq!(j.sasl_oauthbearer_extensions.get("traceId"), Some("t-1"));
        assert_eq!(
            j.sasl_oauthbearer_extensions.get("logicalCluster"),
            Some("lkc-9")
        );
        assert!(
            j.oauthbearer_token_provider.is_some(),
            "unsecured tokens for sub=alice"
        );
        assert!(j.sasl_username.is_none());
    }

    #[test]
    fn protocol_and_hostname_verification() {
        let mut c = SecurityConfig::new();
        assert!(c.ssl_verify_hostname);
        apply(&mut c, "security.protocol", "sasl_ssl").expect("ok");
        assert!(c.protocol.uses_tls() && c.protocol.uses_sasl());
        apply(&mut c, "ssl.endpoint.identification.algorithm", "").expect("ok");
        assert!(!c.ssl_verify_hostname);
        assert!(apply(&mut c, "security.protocol", "TLS").is_err());
        assert!(apply(&mut c, "sasl.mechanism", "GSSAPI").is_err());
        assert_eq!(apply(&mut c, "linger.ms", "1").ok(), Some(false));
    }
}
