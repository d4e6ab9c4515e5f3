//! A closed port and a server that answers garbage give a clear error within the timeout,
//! never a hang or a panic. No broker needed.

use std::time::{Duration, Instant};

use kafka_wire::cluster::Client;
use kafka_wire::config::ClientConfig;
use kafka_wire::error::ConnectionError;
use kafka_wire::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new(bootstrap);
    c.set("request.timeout.ms", "2000").unwrap();
    c.set("socket.connection.setup.timeout.ms", "2000").unwrap();
    c
}

#[tokio::test]
async fn closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let start = Instant::now();
    let err = Client::connect(config(&format!("127.0.0.1:{port}")))
        .await
        .unwrap_err();
    println!("closed port -> {err} ({:?})", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(5));
    match err {
        Error::NoBrokerAvailable { last, .. } => {
            assert!(
                matches!(*last, Error::Connection(ConnectionError::Connect { .. })),
                "{last}"
            )
        }
        other => panic!("unexpected {other}"),
    }
}

async fn garbage_server(reply: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn http_server_is_a_clear_error() {
    let addr = garbage_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
    let start = Instant::now();
    let err = Client::connect(config(&addr)).await.unwrap_err();
    println!("HTTP server -> {err} ({:?})", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(5));
    // "HTTP" read as a size is 1.2 GB: refused by receive.message.max.bytes, nothing allocated.
    assert!(
        err.to_string().contains("receive.message.max.bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn truncated_reply_is_a_clear_error() {
    let addr = garbage_server(b"\x00\x00\x00\x10\x00\x00").await;
    let start = Instant::now();
    let err = Client::connect(config(&addr)).await.unwrap_err();
    println!("truncated reply -> {err} ({:?})", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn silent_server_times_out() {
    let addr = garbage_server(b"").await;
    let start = Instant::now();
    let err = Client::connect(config(&addr)).await.unwrap_err();
    println!("silent server -> {err} ({:?})", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(err.to_string().contains("request.timeout.ms"), "{err}");
}

#[tokio::test]
async fn bad_bootstrap_is_a_config_error() {
    let mut c = ClientConfig::default();
    let err = c
        .set("bootstrap.servers", "localhost:notaport")
        .unwrap_err();
    assert!(err.to_string().contains("bootstrap.servers"));
}
