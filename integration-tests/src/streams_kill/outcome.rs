//! What a crash loop found: its one result line and the guarantees' checks.

use super::*;

/// What a crash loop found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `processing.guarantee`.
    pub guarantee: Guarantee,
    /// `kafka` or `kafka3`.
    pub cluster: &'static str,
    /// `persistent` or `memory`.
    pub store: &'static str,
    /// SIGKILLs of instances.
    pub kills: usize,
    /// …per instance.
    pub kills_of: Vec<usize>,
    /// Broker nodes SIGKILLed (in order).
    pub broker_kills: Vec<u8>,
    /// Input records read back.
    pub inputs: usize,
    /// The sum of the true counts (= `inputs`).
    pub expected_total: i64,
    /// The sum of the final counts in the output.
    pub actual_total: i64,
    /// Keys with a count in the output.
    pub keys: usize,
    /// Keys whose final count is below the true one: (key, final, true).
    pub keys_below: Vec<(String, i64, i64)>,
    /// Keys whose final count is above the true one: (key, final, true).
    pub keys_above: Vec<(String, i64, i64)>,
    /// Keys in the output that are not in the input.
    pub unknown_keys: usize,
    /// Output records whose count does not increase on the key's previous one.
    pub duplicates: usize,
    /// Output records whose count is more than one above the key's previous one (or above 1
    /// for a key's first).
    pub gaps: usize,
    /// The first duplicates and gaps: `key partition offset: previous -> value`.
    pub anomalies: Vec<String>,
    /// Output records (committed).
    pub output_records: usize,
    /// `wipe <task> <store> <reason>` lines the instances printed (`instance.incarnation: …`).
    pub wipes: Vec<String>,
    /// Restorations finished, and the changelog records they applied.
    pub restores: (usize, u64),
    /// Instances that exited by themselves (or did not stop cleanly at the end).
    pub exits: Vec<String>,
    /// From the last kill until the group committed the end of the input.
    pub caught_up: Duration,
    /// The whole run.
    pub took: Duration,
    /// Where the instances' logs are (removed after a passing check).
    pub log_dir: PathBuf,
}

impl Outcome {
    /// The one result line of the run.
    pub fn line(&self) -> String {
        format!(
            "streams kill loop: guarantee {}, cluster {}, store {}, kills {} (per instance {:?}), broker kills {} (nodes {:?}), inputs {}, expected total {}, actual total {}, keys below {}, keys above {}, duplicates {}, gaps {}, wipes {}, restorations {} ({} records), output records {}, exits {}, caught up {:.1} s after the last kill, took {:.0} s",
            self.guarantee.name(),
            self.cluster,
            self.store,
            self.kills,
            self.kills_of,
            self.broker_kills.len(),
            self.broker_kills,
            self.inputs,
            self.expected_total,
            self.actual_total,
            self.keys_below.len(),
            self.keys_above.len(),
            self.duplicates,
            self.gaps,
            self.wipes.len(),
            self.restores.0,
            self.restores.1,
            self.output_records,
            self.exits.len(),
            self.caught_up.as_secs_f64(),
            self.took.as_secs_f64(),
        )
    }

    fn details(&self) {
        if !self.keys_below.is_empty() {
            eprintln!(
                "kill loop: keys below their true count (key, final, true): {:?}",
                self.keys_below
            );
        }
        if !self.keys_above.is_empty() {
            eprintln!(
                "kill loop: keys above their true count (key, final, true), first 10: {:?}",
                &self.keys_above[..self.keys_above.len().min(10)]
            );
        }
        if !self.anomalies.is_empty() {
            eprintln!(
                "kill loop: first duplicates/gaps (key partition@offset: previous -> value): {}",
                self.anomalies.join("; ")
            );
        }
        if !self.wipes.is_empty() {
            eprintln!("kill loop: store wipes: {}", self.wipes.join("; "));
        }
        if !self.exits.is_empty() {
            eprintln!("kill loop: exits: {:?}", self.exits);
        }
    }

    fn common_checks(&self, min_kills: usize) {
        assert!(self.kills >= min_kills, "{} kills", self.kills);
        assert_eq!(self.inputs, N, "the input holds every record written");
        assert_eq!(self.keys, KEYS, "every key has a count");
        assert_eq!(self.unknown_keys, 0, "no key the input does not have");
        assert!(
            self.exits.is_empty(),
            "no instance fails by itself: {:?}",
            self.exits
        );
    }

    /// At-least-once: no key's final count below its true count; duplicates, gaps and keys
    /// above are information. Prints the line (and details) first.
    pub fn check_at_least_once(&self, min_kills: usize) {
        println!("{}", self.line());
        self.details();
        self.keep_logs_on_panic(|| {
            self.common_checks(min_kills);
            assert!(
                self.keys_below.is_empty(),
                "at-least-once: no key's final count below its true count: {:?}",
                self.keys_below
            );
        });
    }

    /// Exactly-once: every final count equals the true count, each key's committed output is
    /// exactly 1, 2, …, n, and no store was wiped.
    pub fn check_exactly_once(&self, min_kills: usize) {
        println!("{}", self.line());
        self.details();
        self.keep_logs_on_panic(|| {
            self.common_checks(min_kills);
            assert!(
                self.keys_below.is_empty() && self.keys_above.is_empty(),
                "exactly-once: every final count equals the true count (below {:?}, above {:?})",
                self.keys_below,
                self.keys_above
            );
            assert_eq!(self.actual_total, self.expected_total);
            assert_eq!(
                (self.duplicates, self.gaps),
                (0, 0),
                "exactly-once: each key's committed output is 1, 2, …, n: {}",
                self.anomalies.join("; ")
            );
            assert_eq!(self.output_records, N, "one committed output per input");
            assert!(
                self.wipes.is_empty(),
                "exactly-once rolls stores back without wiping them: {:?}",
                self.wipes
            );
        });
    }

    fn keep_logs_on_panic(&self, checks: impl FnOnce()) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(checks));
        match result {
            Ok(()) => {
                if std::env::var_os("STREAMS_KILL_LOOP_KEEP_LOGS").is_none() {
                    let _ = std::fs::remove_dir_all(&self.log_dir);
                } else {
                    eprintln!("kill loop: logs kept in {}", self.log_dir.display());
                }
            }
            Err(panic) => {
                eprintln!(
                    "kill loop: the instances' logs are in {}",
                    self.log_dir.display()
                );
                std::panic::resume_unwind(panic);
            }
        }
    }
}
