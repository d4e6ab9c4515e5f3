//! A group member running in this process for tests: consumes a topic through
//! [`Consumer::subscribe`] in a task and records every record and rebalance event it sees.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerEvent};
use kafka_wire::TopicPartition;
use tokio::sync::oneshot;

/// What one member saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub owned: BTreeSet<TopicPartition>,
    pub records: Vec<(i32, i64)>,
    pub assigned: Vec<Vec<TopicPartition>>,
    pub revoked: Vec<Vec<TopicPartition>>,
    pub lost: Vec<Vec<TopicPartition>>,
}

pub struct Member {
    pub seen: Arc<Mutex<Seen>>,
    stop: Option<oneshot::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Member {
    /// Start a member of `group` on `topic` (earliest reset, 6 s session, 500 ms heartbeats
    /// and auto commits), with extra consumer properties.
    pub async fn start(
        bootstrap: &str,
        group: &str,
        topic: &str,
        props: &[(&str, &str)],
    ) -> Member {
        let mut config = ConsumerConfig::new(bootstrap);
        config.set("group.id", group).unwrap();
        config.set("auto.offset.reset", "earliest").unwrap();
        config.set("session.timeout.ms", "6000").unwrap();
        config.set("heartbeat.interval.ms", "500").unwrap();
        config.set("auto.commit.interval.ms", "500").unwrap();
        for (k, v) in props {
            config.set(k, v).unwrap();
        }
        let mut consumer = Consumer::connect(config).await.unwrap();
        consumer.subscribe([topic]).unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, mut rx) = oneshot::channel::<bool>();
        let s = seen.clone();
        let task = tokio::spawn(async move {
            let graceful = {
                let mut events = consumer.events();
                loop {
                    let event = tokio::select! {
                        e = events.next() => e,
                        g = &mut rx => break g.unwrap_or(false),
                    };
                    let event = event.expect("stream never ends").expect("consumer error");
                    let mut s = s.lock().unwrap();
                    match event {
                        ConsumerEvent::Record(r) => s.records.push((r.partition, r.offset)),
                        ConsumerEvent::Assigned(tps) => {
                            s.owned.extend(tps.iter().cloned());
                            s.assigned.push(tps);
                        }
                        ConsumerEvent::Revoked(tps) => {
                            for tp in &tps {
                                s.owned.remove(tp);
                            }
                            s.revoked.push(tps);
                        }
                        ConsumerEvent::Lost(tps) => {
                            for tp in &tps {
                                s.owned.remove(tp);
                            }
                            s.lost.push(tps);
                        }
                    }
                }
            };
            if graceful {
                consumer.commit_consumed().await.unwrap();
                consumer.close().await.unwrap();
            }
            // Not graceful: drop without leaving (as a crash would, minus the socket close).
        });
        Member {
            seen,
            stop: Some(tx),
            task,
        }
    }

    /// The partitions it owns now.
    pub fn owned(&self) -> BTreeSet<TopicPartition> {
        self.seen.lock().unwrap().owned.clone()
    }

    /// Stop it: `graceful` commits and leaves; otherwise it is dropped without leaving.
    pub async fn stop(mut self, graceful: bool) -> Seen {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(graceful);
        }
        self.task.await.unwrap();
        Arc::try_unwrap(self.seen)
            .map(|m| m.into_inner().unwrap())
            .unwrap_or_default()
    }
}
