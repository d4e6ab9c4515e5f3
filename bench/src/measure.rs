//! What the streams benchmarks share to measure a child process and summarise runs: its
//! peak RSS, the command that starts ours (optionally under a diagnostic tool), medians and
//! ratios.

use std::path::Path;
use std::process::Command;

/// Peak RSS (`VmHWM`, kB) of process `pid`, while it runs.
pub(crate) fn peak_rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The command that runs our `program`. Diagnostics only: `BENCH_OURS_WRAP="heaptrack -o
/// /tmp/ht"` runs it under a tool (its CPU and RSS are then the tool's process').
pub(crate) fn ours_command(program: &Path) -> Command {
    let wrap = std::env::var("BENCH_OURS_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    match words.next() {
        Some(tool) => {
            let mut c = Command::new(tool);
            c.args(words).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// The median (the mean of the middle two for an even count).
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// `v` with `decimals` decimals, or `n/a`.
pub(crate) fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}"))
}

/// `a / b`, when both are known and `b` is above 0.
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b.filter(|b| *b > 0.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(Some(1.0), Some(4.0)), Some(0.25));
        assert_eq!(fmt(None, 2), "n/a");
        assert_eq!(fmt(Some(1.234), 1), "1.2");
    }
}
