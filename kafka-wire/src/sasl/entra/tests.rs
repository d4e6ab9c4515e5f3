use super::*;

pub(super) const NOW_MS: i64 = 1_700_000_000_000;

#[test]
fn event_hubs_scope_accepts_hosts_addresses_and_names() {
    let scope = "https://ns.servicebus.windows.net/.default";
    for input in [
        "ns.servicebus.windows.net",
        " ns.servicebus.windows.net ",
        "ns.servicebus.windows.net:9093",
        "sb://ns.servicebus.windows.net/",
        "https://ns.servicebus.windows.net/hub",
        "ns",
    ] {
        assert_eq!(event_hubs_scope(input), scope, "{input}");
    }
    assert_eq!(
        event_hubs_scope("ns.servicebus.chinacloudapi.cn"),
        "https://ns.servicebus.chinacloudapi.cn/.default"
    );
}

#[test]
fn parses_expires_in_as_number_or_string_and_expires_on() {
    let t = parse_token_response(br#"{"access_token":"a.b.c","expires_in":3600}"#, NOW_MS)
        .expect("number");
    assert_eq!(t.token.value(), "a.b.c");
    assert_eq!(t.token.lifetime_ms(), NOW_MS + 3_600_000);
    assert_eq!(t.refresh_at_ms, NOW_MS + 3_300_000, "5 minutes early");

    let t = parse_token_response(
        br#"{"access_token":"x","expires_in":"600","expires_on":"1"}"#,
        NOW_MS,
    )
    .expect("string; expires_in wins");
    assert_eq!(t.token.lifetime_ms(), NOW_MS + 600_000);
    assert_eq!(
        t.refresh_at_ms,
        NOW_MS + 480_000,
        "20 % of 10 minutes early"
    );

    let t = parse_token_response(br#"{"access_token":"x","expires_on":1700007200}"#, NOW_MS)
        .expect("expires_on");
    assert_eq!(t.token.lifetime_ms(), 1_700_007_200_000);

    let t = parse_token_response(
        br#"{"access_token":"x","expires_in":86400,"refresh_in":43200}"#,
        NOW_MS,
    )
    .expect("refresh_in");
    assert_eq!(t.refresh_at_ms, NOW_MS + 43_200_000);

    let t = parse_token_response(br#"{"access_token":"x","expires_in":1e300}"#, NOW_MS)
        .expect("huge saturates");
    assert_eq!(t.token.lifetime_ms(), i64::MAX);
}

#[test]
fn rejects_bad_token_responses_without_echoing_the_token() {
    for (body, expected) in [
        (&br#"{"expires_in":3600}"#[..], "no access_token"),
        (
            br#"{"access_token":"","expires_in":3600}"#,
            "no access_token",
        ),
        (br#"{"access_token":"x"}"#, "no expires_in or expires_on"),
        (
            br#"{"access_token":"x","expires_in":-5}"#,
            "expires_in is not",
        ),
        (
            br#"{"access_token":"x","expires_in":"soon"}"#,
            "expires_in is not",
        ),
        (
            br#"{"access_token":"x","expires_on":[1]}"#,
            "expires_on is not",
        ),
        (
            br#"{"access_token":"sec ret tok","expires_in":1}"#,
            "unusable",
        ),
        (br#"["access_token"]"#, "not a JSON object"),
        (b"<html>nope</html>", "not a JSON object"),
        (b"", "not a JSON object"),
        (&[0xff, 0xfe, 0x00][..], "not a JSON object"),
    ] {
        let err = parse_token_response(body, NOW_MS)
            .err()
            .unwrap_or_else(|| panic!("accepted {body:?}"));
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("sec ret"), "{err}");
    }
    let deep = "[".repeat(100_000);
    assert!(parse_token_response(deep.as_bytes(), NOW_MS).is_err());
}

#[test]
fn error_details_name_error_and_description() {
    assert_eq!(
        error_details(br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: 1"}"#),
        ": invalid_client: AADSTS7000215: Invalid client secret.\\r\\nTrace ID: 1"
    );
    assert_eq!(
        error_details(br#"{"statusCode":400,"message":"No identity"}"#),
        ": No identity"
    );
    assert_eq!(error_details(b""), "");
    assert_eq!(error_details(b"<html/>"), " (the 7-byte body is not JSON)");
}

#[test]
fn token_urls_require_https_except_on_loopback() {
    let url = token_url(
        "https://login.microsoftonline.com/",
        "contoso.onmicrosoft.com",
    )
    .expect("https");
    assert_eq!(
        url.as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    for host in [
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://[::1]:1",
    ] {
        token_url(host, "t").unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    let err = token_url("http://login.example", "t").unwrap_err();
    assert!(err.contains("must be https://"), "{err}");
    for tenant in ["", "a/b", "t?x=1", "../x y"] {
        let err = token_url(DEFAULT_AUTHORITY_HOST, tenant).unwrap_err();
        assert!(err.contains("invalid tenant id"), "{err}");
    }
}

fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn from_env_follows_default_azure_credential_order() {
    let scope = || event_hubs_scope("ns");
    let p = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
        ]),
    )
    .expect("client secret");
    let debug = format!("{p:?}");
    assert!(debug.contains("client secret"), "{debug}");
    assert!(
        debug.contains("https://login.microsoftonline.us"),
        "{debug}"
    );
    assert!(!debug.contains("s3cr3t"), "{debug}");

    let p = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]),
    )
    .expect("workload identity");
    let debug = format!("{p:?}");
    assert!(debug.contains("workload identity"), "{debug}");
    assert!(debug.contains(DEFAULT_AUTHORITY_HOST), "{debug}");

    let err = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[("AZURE_FEDERATED_TOKEN_FILE", "/f")]),
    )
    .unwrap_err();
    assert!(
        err.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID not set"),
        "{err}"
    );
    let err = EntraTokenProvider::from_env_with(
        scope(),
        &env_of(&[
            ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
            ("AZURE_CLIENT_ID", "c"),
        ]),
    )
    .unwrap_err();
    assert!(err.contains("variable AZURE_TENANT_ID not set"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");

    let p = EntraTokenProvider::from_env_with(scope(), &env_of(&[("AZURE_CLIENT_ID", "uai")]))
        .expect("managed identity");
    let debug = format!("{p:?}");
    assert!(debug.contains("managed identity"), "{debug}");
    assert!(debug.contains("uai"), "{debug}");
    assert!(debug.contains(IMDS_ENDPOINT), "{debug}");
    assert!(
        debug.contains("\"https://ns.servicebus.windows.net\""),
        "{debug}"
    );
}
