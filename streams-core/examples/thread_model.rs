//! Why stream threads are OS threads and not tokio tasks: a measurement.
//!
//! Two "stream threads" each process records in bursts of `BURST_MS` of pure CPU (as a
//! processor does), for `RUN_S` seconds, on a 2-worker tokio runtime that also carries the
//! clients' background work. A probe task on that runtime stands for a consumer's heartbeat:
//! it wakes every 10 ms and records how late it woke. Run once with the stream threads as
//! tokio tasks and once as OS threads that only `block_on` the runtime for I/O.
//!
//! ```text
//! cargo run --release -p streams-core --example thread_model
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BURST_MS: u64 = 50;
const RUN_S: u64 = 3;

fn burn(ms: u64) -> u64 {
    let until = Instant::now() + Duration::from_millis(ms);
    let mut x = 0u64;
    while Instant::now() < until {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    x
}

fn probe(
    rt: &tokio::runtime::Runtime,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u64, u64, u64)> {
    rt.spawn(async move {
        let (mut n, mut sum, mut max) = (0u64, 0u64, 0u64);
        while !stop.load(Ordering::Relaxed) {
            let asked = Instant::now();
            tokio::time::sleep(Duration::from_millis(10)).await;
            let late = asked
                .elapsed()
                .saturating_sub(Duration::from_millis(10))
                .as_micros() as u64;
            n += 1;
            sum += late;
            max = max.max(late);
        }
        (n, sum / n.max(1), max)
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sink = Arc::new(AtomicU64::new(0));

    // As tokio tasks: processing occupies the runtime's workers.
    let stop = Arc::new(AtomicBool::new(false));
    let p = probe(&rt, stop.clone());
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let sink = sink.clone();
            rt.spawn(async move {
                let end = Instant::now() + Duration::from_secs(RUN_S);
                while Instant::now() < end {
                    sink.fetch_add(burn(BURST_MS), Ordering::Relaxed);
                    tokio::task::yield_now().await; // a poll between bursts
                }
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
    });
    stop.store(true, Ordering::Relaxed);
    let (n, avg, max) = rt.block_on(p).unwrap_or_default();
    println!("stream threads as tokio tasks: probe woke {n} times in {RUN_S} s, late avg {:.1} ms, max {:.1} ms", avg as f64 / 1e3, max as f64 / 1e3);

    // As OS threads: processing stays off the runtime; I/O is block_on'd from the thread.
    let stop = Arc::new(AtomicBool::new(false));
    let p = probe(&rt, stop.clone());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let sink = sink.clone();
            let handle = rt.handle().clone();
            std::thread::spawn(move || {
                let end = Instant::now() + Duration::from_secs(RUN_S);
                while Instant::now() < end {
                    sink.fetch_add(burn(BURST_MS), Ordering::Relaxed);
                    handle.block_on(tokio::task::yield_now()); // a poll between bursts
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    stop.store(true, Ordering::Relaxed);
    let (n, avg, max) = rt.block_on(p).unwrap_or_default();
    println!("stream threads as OS threads:  probe woke {n} times in {RUN_S} s, late avg {:.1} ms, max {:.1} ms", avg as f64 / 1e3, max as f64 / 1e3);
    println!("(ignore: {})", sink.load(Ordering::Relaxed) % 2);
}
