//! The fetch round in flight: started as soon as records are handed out, so the next records
//! are on their way while the application processes the current ones.
//!
//! One round is in flight at a time (it owns the per-broker fetch sessions until it
//! completes, which keeps KIP-227 session epochs in order). Its results are applied at the
//! next `poll` with the same position check as any fetch: data for a partition that was
//! sought, paused or unassigned meanwhile is dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::task::JoinHandle;

use super::fetch::{self, FetchPosition, PartitionFetch};
use super::fetch_session::FetchSession;
use super::ConsumerConfig;
use crate::cluster::Client;
use crate::error::Result;
use crate::TopicPartition;

/// What a completed round hands back: the sessions it used and the per-partition results.
#[derive(Debug)]
pub(super) struct FetchOutcome {
    pub sessions: HashMap<i32, FetchSession>,
    pub results: Result<Vec<PartitionFetch>>,
}

/// A fetch round running in its own task; aborted if dropped before it completes.
#[derive(Debug)]
pub(super) struct InFlight {
    handle: JoinHandle<FetchOutcome>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl InFlight {
    /// Start fetching `partitions` with the consumer's fetch sessions, asking each leader to
    /// wait up to `wait` for `fetch.min.bytes`.
    pub fn start(
        client: Client,
        config: Arc<ConsumerConfig>,
        partitions: Vec<(TopicPartition, FetchPosition)>,
        mut sessions: HashMap<i32, FetchSession>,
        wait: Duration,
    ) -> InFlight {
        let handle = tokio::spawn(async move {
            let started = Instant::now();
            let results =
                fetch::fetch_round(&client, &config, &partitions, &mut sessions, wait).await;
            // A broker that answers an empty fetch at once instead of waiting
            // `fetch.max.wait.ms` (noida-db does) must not turn polling into a busy loop.
            let empty = match &results {
                Ok(r) => r.iter().all(|p| p.records.is_empty()),
                Err(_) => true,
            };
            let elapsed = started.elapsed();
            if empty && elapsed < wait {
                tokio::time::sleep((wait - elapsed).min(Duration::from_millis(50))).await;
            }
            FetchOutcome { sessions, results }
        });
        InFlight { handle }
    }

    /// The outcome if the round has completed, without waiting.
    pub fn try_take(&mut self) -> Option<FetchOutcome> {
        if !self.handle.is_finished() {
            return None;
        }
        (&mut self.handle).now_or_never().map(joined)
    }

    /// Wait up to `wait` for the outcome; `None` if the round is still running (it stays in
    /// flight). Cancel-safe.
    pub async fn wait(&mut self, wait: Duration) -> Option<FetchOutcome> {
        tokio::time::timeout(wait, &mut self.handle)
            .await
            .ok()
            .map(joined)
    }
}

fn joined(r: std::result::Result<FetchOutcome, tokio::task::JoinError>) -> FetchOutcome {
    match r {
        Ok(outcome) => outcome,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only `Drop` aborts the task, and then nobody waits for it.
            Err(e) => FetchOutcome {
                sessions: HashMap::new(),
                results: Err(crate::error::Error::Protocol {
                    operation: "Fetch",
                    detail: format!("fetch task ended: {e}"),
                }),
            },
        },
    }
}
