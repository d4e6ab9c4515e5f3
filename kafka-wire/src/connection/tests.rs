//! Connection tests against an in-process fake broker over an in-memory pipe.

use super::*;
use crate::protocol::messages::api_versions_response::ApiVersion;
use crate::protocol::messages::sasl_handshake_request::SaslHandshakeRequest;
use crate::protocol::messages::{MetadataRequest, MetadataResponse, SaslHandshakeResponse};
use crate::protocol::wire::Encode;
use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

fn opts() -> MessengerOptions {
    MessengerOptions {
        client_id: Some("test".into()),
        request_timeout: Duration::from_millis(500),
        max_response_size: 1 << 20,
        idle_timeout: Duration::from_secs(60),
    }
}

fn addr() -> BrokerAddress {
    BrokerAddress::parse("fake:9092").unwrap()
}

async fn read_request(s: &mut DuplexStream) -> Option<(i16, i16, i32)> {
    let size = s.read_i32().await.ok()?;
    let mut buf = vec![0; size as usize];
    s.read_exact(&mut buf).await.ok()?;
    let (h, api, _) = frame::decode_request_header(Bytes::from(buf)).ok()?;
    Some((api as i16, h.request_api_version, h.correlation_id))
}

fn api_versions_frame(id: i32) -> BytesMut {
    let resp = ApiVersionsResponse {
        api_keys: ApiKey::ALL
            .iter()
            .map(|k| ApiVersion {
                api_key: *k as i16,
                min_version: k.supported_versions().0,
                max_version: k.supported_versions().1,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let v = ApiKey::ApiVersions.supported_versions().1;
    frame::encode_response::<ApiVersionsRequest>(&resp, v, id).unwrap()
}

fn metadata_frame(id: i32, version: i16, cluster: &str) -> BytesMut {
    let resp = MetadataResponse {
        cluster_id: Some(cluster.into()),
        ..Default::default()
    };
    frame::encode_response::<MetadataRequest>(&resp, version, id).unwrap()
}

/// A fake broker that answers ApiVersions, then hands the stream to `rest`.
async fn fake<F, Fut>(rest: F) -> BrokerConnection
where
    F: FnOnce(DuplexStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (client, mut server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let (_, _, id) = read_request(&mut server).await.unwrap();
        server.write_all(&api_versions_frame(id)).await.unwrap();
        rest(server).await;
    });
    BrokerConnection::handshake(client, addr(), opts())
        .await
        .unwrap()
}

#[tokio::test]
async fn negotiates_and_pipelines_out_of_order_responses() {
    let conn = fake(|mut s| async move {
        let mut reqs = Vec::new();
        for _ in 0..10 {
            reqs.push(read_request(&mut s).await.unwrap());
        }
        for (_, v, id) in reqs.into_iter().rev() {
            s.write_all(&metadata_frame(id, v, &format!("c{id}")))
                .await
                .unwrap();
        }
        let _ = s.read_i32().await;
    })
    .await;
    assert_eq!(
        conn.version_for(ApiKey::Metadata).unwrap(),
        ApiKey::Metadata.supported_versions().1
    );
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let conn = conn.clone();
            tokio::spawn(async move { conn.send(&MetadataRequest::default()).await })
        })
        .collect();
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap().unwrap().cluster_id.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "each request got its own response");
}

#[tokio::test]
async fn hangup_fails_requests_in_flight_and_later_ones() {
    let conn = fake(|mut s| async move {
        read_request(&mut s).await.unwrap();
        drop(s);
    })
    .await;
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Closed { .. }), "{err}");
    assert!(conn.is_closed());
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Closed { .. }), "{err}");
}

#[tokio::test]
async fn oversized_frame_names_the_limit() {
    let conn = fake(|mut s| async move {
        read_request(&mut s).await.unwrap();
        s.write_all(&(200_000_000i32).to_be_bytes()).await.unwrap();
        let _ = s.read_i32().await;
    })
    .await;
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::ResponseTooLarge {
                size: 200_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("receive.message.max.bytes"));
}

#[tokio::test]
async fn garbage_is_a_clear_error() {
    let conn = fake(|mut s| async move {
        read_request(&mut s).await.unwrap();
        s.write_all(b"\xff\xff\xff\xffHTTP/1.1 400 Bad Request\r\n")
            .await
            .unwrap();
        let _ = s.read_i32().await;
    })
    .await;
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(
        matches!(err, ConnectionError::InvalidFrameSize { size: -1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_body_fails_only_that_request() {
    let conn = fake(|mut s| async move {
        let (_, _, id) = read_request(&mut s).await.unwrap();
        let mut f = BytesMut::new();
        f.put_i32(8);
        f.put_i32(id);
        f.put_i32(0x7fff_ffff); // nonsense where the body should be
        s.write_all(&f).await.unwrap();
        let (_, v, id) = read_request(&mut s).await.unwrap();
        s.write_all(&metadata_frame(id, v, "ok")).await.unwrap();
        let _ = s.read_i32().await;
    })
    .await;
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Decode { .. }), "{err}");
    let ok = conn.send(&MetadataRequest::default()).await.unwrap();
    assert_eq!(ok.cluster_id.as_deref(), Some("ok"));
}

#[tokio::test]
async fn request_timeout_closes_the_connection() {
    let conn = fake(|mut s| async move {
        read_request(&mut s).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let err = conn.send(&MetadataRequest::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::RequestTimeout {
                api: ApiKey::Metadata,
                ..
            }
        ),
        "{err}"
    );
    assert!(conn.is_closed());
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let (client, mut server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let (_, _, id) = read_request(&mut server).await.unwrap();
        server.write_all(&api_versions_frame(id)).await.unwrap();
        let _ = server.read_i32().await;
    });
    let mut o = opts();
    o.idle_timeout = Duration::from_millis(200);
    let conn = BrokerConnection::handshake(client, addr(), o)
        .await
        .unwrap();
    assert!(!conn.is_closed());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn throttle_time_delays_the_next_request() {
    let conn = fake(|mut s| async move {
        let (_, v, id) = read_request(&mut s).await.unwrap();
        let resp = MetadataResponse {
            throttle_time_ms: 300,
            ..Default::default()
        };
        s.write_all(&frame::encode_response::<MetadataRequest>(&resp, v, id).unwrap())
            .await
            .unwrap();
        let (_, v, id) = read_request(&mut s).await.unwrap();
        s.write_all(&metadata_frame(id, v, "x")).await.unwrap();
        let _ = s.read_i32().await;
    })
    .await;
    conn.send(&MetadataRequest::default()).await.unwrap();
    let start = std::time::Instant::now();
    conn.send(&MetadataRequest::default()).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(250));
}

#[test]
fn reconnect_backoff_grows_to_the_cap_with_jitter() {
    let c = ClientConfig::default();
    let first = reconnect_backoff(&c, 1);
    assert!(first >= Duration::from_millis(40) && first <= Duration::from_millis(60));
    let late = reconnect_backoff(&c, 20);
    assert!(late >= Duration::from_millis(800) && late <= Duration::from_millis(1200));
}

#[test]
fn a_body_encodes_at_every_supported_version() {
    for v in ApiKey::Metadata.supported_versions().0..=ApiKey::Metadata.supported_versions().1 {
        let mut b = BytesMut::new();
        MetadataRequest::default().encode(&mut b, v).unwrap();
    }
}

/// ApiVersions of a Kafka 0.11 broker: SaslHandshake v0 only, no SaslAuthenticate.
fn legacy_api_versions_frame(id: i32, version: i16, code: ErrorCode) -> BytesMut {
    let range = |k: ApiKey, lo: i16, hi: i16| ApiVersion {
        api_key: k as i16,
        min_version: lo,
        max_version: hi,
        ..Default::default()
    };
    let resp = ApiVersionsResponse {
        error_code: code.0,
        api_keys: vec![
            range(ApiKey::Produce, 0, 3),
            range(ApiKey::Fetch, 0, 5),
            range(ApiKey::Metadata, 0, 4),
            range(ApiKey::SaslHandshake, 0, 0),
            range(ApiKey::ApiVersions, 0, 1),
        ],
        ..Default::default()
    };
    frame::encode_response::<ApiVersionsRequest>(&resp, version, id).unwrap()
}

/// A Kafka 0.11-like broker: ApiVersions (refusing our newest version first), SaslHandshake v0
/// for PLAIN, then the raw token; `accept` decides between an empty token back and a hang-up
/// (how such brokers report bad credentials). Then it answers one Metadata request.
async fn legacy_sasl(password: &str, accept: bool) -> Result<BrokerConnection, ConnectionError> {
    let (client, mut s) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let (api, v, id) = read_request(&mut s).await.unwrap();
        assert_eq!(api, ApiKey::ApiVersions as i16);
        assert!(v > 1);
        let refusal = legacy_api_versions_frame(id, 0, ErrorCode::UNSUPPORTED_VERSION);
        s.write_all(&refusal).await.unwrap();
        let (_, v, id) = read_request(&mut s).await.unwrap();
        assert_eq!(v, 1, "asks again within the broker's range");
        let ok = legacy_api_versions_frame(id, 1, ErrorCode::NONE);
        s.write_all(&ok).await.unwrap();

        let (api, v, id) = read_request(&mut s).await.unwrap();
        assert_eq!((api, v), (ApiKey::SaslHandshake as i16, 0));
        let resp = SaslHandshakeResponse {
            mechanisms: vec!["PLAIN".into()],
            ..Default::default()
        };
        let frame = frame::encode_response::<SaslHandshakeRequest>(&resp, 0, id).unwrap();
        s.write_all(&frame).await.unwrap();

        let size = s.read_i32().await.unwrap();
        let mut token = vec![0; size as usize];
        s.read_exact(&mut token).await.unwrap();
        if !accept || token != b"\0alice\0alice-secret" {
            return; // hang up
        }
        s.write_all(&0i32.to_be_bytes()).await.unwrap();
        let (_, v, id) = read_request(&mut s).await.unwrap();
        s.write_all(&metadata_frame(id, v, "legacy")).await.unwrap();
        let _ = s.read_i32().await;
    });
    let mut config = ClientConfig::new("fake:9092");
    for (k, v) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "alice"),
        ("sasl.password", password),
        ("request.timeout.ms", "2000"),
    ] {
        config.set(k, v).unwrap();
    }
    BrokerConnection::establish(Box::new(client), &addr(), &config).await
}

#[tokio::test]
async fn sasl_on_a_broker_before_1_0_uses_raw_tokens() {
    let conn = legacy_sasl("alice-secret", true).await.unwrap();
    assert_eq!(conn.version_for(ApiKey::Metadata).unwrap(), 4);
    let md = conn.send(&MetadataRequest::default()).await.unwrap();
    assert_eq!(md.cluster_id.as_deref(), Some("legacy"));
}

#[tokio::test]
async fn a_hang_up_during_raw_sasl_is_an_authentication_error() {
    let err = legacy_sasl("hunter2", false).await.unwrap_err();
    match &err {
        ConnectionError::Authentication {
            mechanism, reason, ..
        } => {
            assert_eq!(mechanism, "PLAIN");
            assert!(reason.contains("closed the connection"), "{reason}");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "no password in errors: {text}");
}
