//! List the topics of a cluster: `list_topics [bootstrap.servers]`.
//!
//! The smallest useful program; the no-C gate builds it as a static musl binary and reports
//! its size.

use kafka_wire::admin::Admin;
use kafka_wire::config::ClientConfig;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let bootstrap = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9092".into());
    let mut config = ClientConfig::default();
    if let Err(e) = config.set("bootstrap.servers", &bootstrap) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    match async { Admin::connect(config).await?.list_topics().await }.await {
        Ok(topics) => topics.iter().for_each(|t| println!("{t}")),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
