//! The response-size cap (`receive.message.max.bytes`) against real brokers: Apache Kafka
//! honours the fetch size limits, noida-db 0.2.3 ignores them and answers with the whole
//! partition — the client refuses that frame with an error naming the setting, without
//! allocating it, and without panicking.

use integration_tests::{
    create_ready_topic, fetch_once, produce_batch, unique_topic, value_batch, Broker,
};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::error::ConnectionError;
use kafka_wire::{Error, TopicPartition};

const CAP: usize = 1 << 20;

async fn fill(broker: Broker) -> Option<(Admin, TopicPartition)> {
    let bootstrap = broker.bootstrap("response_cap")?;
    integration_tests::init_logging();
    let mut config = ClientConfig::new(&bootstrap);
    config
        .set("receive.message.max.bytes", &CAP.to_string())
        .unwrap();
    config.set("default.api.timeout.ms", "20000").unwrap();
    let admin = Admin::connect(config).await.unwrap();
    let topic = unique_topic("cap");
    create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
    let tp = TopicPartition::new(&topic, 0);
    for i in 0..30 {
        let value: Vec<u8> = (0..100_000u32)
            .map(|j| (j.wrapping_mul(2654435761) >> 13) as u8 ^ i)
            .collect();
        produce_batch(admin.client(), &tp, &value_batch([value]))
            .await
            .unwrap();
    }
    Some((admin, tp))
}

#[tokio::test]
async fn kafka_respects_fetch_limits_under_the_cap() {
    let Some((admin, tp)) = fill(Broker::Kafka).await else {
        return;
    };
    let records = fetch_once(admin.client(), &tp, 0, 300_000).await.unwrap();
    println!(
        "Kafka answered a 300 kB fetch with {} bytes of records",
        records.len()
    );
    assert!(records.len() <= CAP);
}

#[tokio::test]
async fn noida_oversized_fetch_is_refused_by_the_cap() {
    let Some((admin, tp)) = fill(Broker::Noida).await else {
        return;
    };
    match fetch_once(admin.client(), &tp, 0, 300_000).await {
        Ok(records) => {
            println!(
                "noida answered within the cap ({} bytes): its fetch limits work now",
                records.len()
            );
            assert!(records.len() <= CAP);
        }
        Err(e) => {
            println!("noida oversized fetch -> {e}");
            let found = match &e {
                Error::Connection(ConnectionError::ResponseTooLarge { limit, .. }) => *limit == CAP,
                Error::Timeout { last, .. } => matches!(
                    **last,
                    Error::Connection(ConnectionError::ResponseTooLarge { .. })
                ),
                _ => false,
            };
            assert!(found, "expected ResponseTooLarge, got {e}");
            assert!(e.to_string().contains("receive.message.max.bytes"));
        }
    }
}
