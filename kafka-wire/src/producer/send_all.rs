//! Queueing many records at once ([`Producer::send_all`]): what a stream thread hands over
//! after a round of processing. Each record gets the checks and the outcome
//! [`Producer::send`] gives it, but the list costs one clock read, one metadata lookup and a
//! few locks of the producer core instead of one of each per record.

use std::time::Instant;

use tokio::sync::TryAcquireError;

use super::{accumulator, DeliveryFuture, Producer, ProducerRecord};
use crate::error::Result;
use crate::protocol::record_batch::Record;
use crate::TopicPartition;

/// Records appended per lock of the producer core (the sender takes the lock in between).
const APPEND_CHUNK: usize = 256;

impl Producer {
    /// Queue `records` in their order, as [`Producer::send`] would one after the other; the
    /// futures come back in the same order. When the metadata of every topic is fresh and
    /// `buffer.memory` has room for all of them, nothing waits; otherwise the records go
    /// through [`Producer::send`] one by one (waiting up to `max.block.ms` as it does). The
    /// first record `send` would refuse ends the call with its error; the records before it
    /// stay queued.
    pub async fn send_all(&self, records: Vec<ProducerRecord>) -> Result<Vec<DeliveryFuture>> {
        let shared = &self.shared;
        let now = Instant::now();
        let Some(plan) = self.plan(&records, now) else {
            let mut out = Vec::with_capacity(records.len());
            for r in records {
                out.push(self.send(r).await?);
            }
            return Ok(out);
        };
        let mut out = Vec::with_capacity(records.len());
        let mut wake = false;
        let mut records = records.into_iter().zip(plan);
        loop {
            let mut core = shared.core();
            let mut appended = 0;
            for (record, (partition, size)) in records.by_ref() {
                let timestamp = record
                    .timestamp
                    .unwrap_or_else(|| shared.wall_clock.millis_at(now));
                let tp = TopicPartition::new(record.topic, partition);
                let record = Record {
                    offset: 0,
                    timestamp,
                    key: record.key,
                    value: record.value,
                    headers: record.headers,
                };
                match core.append(&tp, record, size, now) {
                    Ok((w, delivery)) => {
                        wake |= w;
                        out.push(delivery);
                    }
                    Err(e) => {
                        drop(core);
                        // This record's permits and those of the records not appended.
                        let unused: usize = size + records.map(|(_, (_, s))| s).sum::<usize>();
                        shared.memory.add_permits(unused);
                        if wake {
                            shared.wake.notify_one();
                        }
                        return Err(e);
                    }
                }
                appended += 1;
                if appended == APPEND_CHUNK {
                    break;
                }
            }
            drop(core);
            if appended < APPEND_CHUNK {
                break;
            }
        }
        if wake {
            shared.wake.notify_one();
        }
        Ok(out)
    }

    /// Each record's partition and size, with `buffer.memory` taken for all of them, if that
    /// needs no waiting: fresh metadata for every topic, no record over `max.request.size`,
    /// and room in the buffer.
    fn plan(&self, records: &[ProducerRecord], now: Instant) -> Option<Vec<(i32, usize)>> {
        let shared = &self.shared;
        let max_age = shared.client.config().metadata_max_age;
        let max_size = shared
            .config
            .max_request_size
            .saturating_sub(accumulator::BATCH_OVERHEAD);
        let plan = shared.client.with_metadata(|m| {
            if m.needs_refresh(now, max_age) {
                return None;
            }
            records
                .iter()
                .map(|r| {
                    let size = r.estimated_size();
                    if size > max_size {
                        return None;
                    }
                    let topic = m
                        .topics
                        .get(&r.topic)
                        .filter(|t| !t.partitions.is_empty())?;
                    self.choose(r, size, topic).ok().map(|p| (p, size))
                })
                .collect::<Option<Vec<_>>>()
        })?;
        let total: usize = plan.iter().map(|(_, s)| s).sum();
        let permits = u32::try_from(total).ok()?;
        match shared.memory.try_acquire_many(permits) {
            Ok(p) => {
                p.forget();
                Some(plan)
            }
            Err(TryAcquireError::Closed | TryAcquireError::NoPermits) => None,
        }
    }
}
