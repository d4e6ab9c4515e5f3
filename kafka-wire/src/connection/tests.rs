//! Connection tests against an in-process fake broker over an in-memory pipe.

use super::*;
use crate::protocol::messages::api_versions_response::ApiVersion;
use crate::protocol::messages::{MetadataRequest, MetadataResponse};
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
