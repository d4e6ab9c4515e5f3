//! Medians, ratios and the printed tables of the throughput benchmark.

use super::*;

pub(super) use crate::measure::{fmt, median, ratio};

pub(super) fn median_of(ms: &[Measure], f: impl Fn(&Measure) -> Option<f64>) -> Option<f64> {
    let known: Option<Vec<f64>> = ms.iter().map(f).collect();
    known.and_then(median)
}

/// Medians of one side in one configuration.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Medians {
    rate: Option<f64>,
    cpu: Option<f64>,
    rss: Option<f64>,
    startup: Option<f64>,
}

pub(super) type Key = (Topo, Shape, Guarantee);

pub(super) fn print_header() {
    println!(
        "{:<5} {:>5} {:>8} {:>8} {:>8} {:>10} {:>11} {:>10} {:>7} {:>8} {:>13} {:>9} {:>8}",
        "side",
        "round",
        "wall s",
        "start s",
        "1st out",
        "lines/s",
        "words/s",
        "lines/s/th",
        "CPU s",
        "RSS MB",
        "broker CPU s",
        "out recs",
        "other s"
    );
}

pub(super) fn print_row(
    side: &str,
    round: &str,
    m: &Measure,
    lines: usize,
    words: usize,
    threads: usize,
) {
    let rate = lines as f64 / m.wall;
    println!(
        "{:<5} {:>5} {:>8.2} {:>8} {:>8} {:>10.0} {:>11.0} {:>10.0} {:>7} {:>8} {:>13} {:>9} {:>8}",
        side,
        round,
        m.wall,
        fmt(m.startup, 2),
        fmt(m.first_output, 2),
        rate,
        words as f64 / m.wall,
        rate / threads as f64,
        fmt(m.cpu, 2),
        fmt(m.rss_mb, 0),
        m.broker_cpu
            .map_or("n/a".into(), |b| format!("{b:.2} ({:.2}c)", b / m.wall)),
        m.out_records,
        fmt(m.other_cpu, 2)
    );
}

/// Print one configuration's runs, medians and ratios; return the medians per side.
pub(super) fn print_config(
    key: Key,
    runs: &BTreeMap<Side, Vec<Result<Measure, String>>>,
    lines: usize,
    words: usize,
) -> BTreeMap<Side, Medians> {
    let (topo, shape, guarantee) = key;
    let words = if topo == Topo::WordCount {
        words
    } else {
        lines
    };
    println!(
        "\n== {} {} {} ({} lines, {} {}) ==",
        topo.name(),
        shape.name(),
        guarantee.name(),
        lines,
        words,
        if topo == Topo::WordCount {
            "words"
        } else {
            "records"
        }
    );
    print_header();
    let mut medians = BTreeMap::new();
    for (side, rs) in runs {
        let ok: Vec<Measure> = rs.iter().filter_map(|r| r.as_ref().ok()).cloned().collect();
        for (i, r) in rs.iter().enumerate() {
            match r {
                Ok(m) => print_row(side.name(), &i.to_string(), m, lines, words, shape.threads),
                Err(e) => println!(
                    "{:<5} {:>5} failed: {}",
                    side.name(),
                    i,
                    e.lines().next().unwrap_or("")
                ),
            }
        }
        if ok.is_empty() {
            continue;
        }
        let wall = median_of(&ok, |m| Some(m.wall));
        let med = Measure {
            wall: wall.unwrap_or(f64::NAN),
            startup: median_of(&ok, |m| m.startup),
            first_output: median_of(&ok, |m| m.first_output),
            cpu: median_of(&ok, |m| m.cpu),
            rss_mb: median_of(&ok, |m| m.rss_mb),
            broker_cpu: median_of(&ok, |m| m.broker_cpu),
            other_cpu: median_of(&ok, |m| m.other_cpu),
            out_records: ok[ok.len() / 2].out_records,
        };
        print_row(side.name(), "med", &med, lines, words, shape.threads);
        medians.insert(
            *side,
            Medians {
                rate: wall.map(|w| lines as f64 / w),
                cpu: med.cpu,
                rss: med.rss_mb,
                startup: med.startup,
            },
        );
    }
    if let Some(ours) = medians.get(&Side::Ours) {
        for peer in [Side::Java, Side::Quix] {
            if let Some(p) = medians.get(&peer) {
                println!(
                    "ours/{}: {}x records/s, {}x CPU s, {}x peak RSS, {}x start-up",
                    peer.name(),
                    fmt(ratio(ours.rate, p.rate), 2),
                    fmt(ratio(ours.cpu, p.cpu), 2),
                    fmt(ratio(ours.rss, p.rss), 2),
                    fmt(ratio(ours.startup, p.startup), 2),
                );
            }
        }
    }
    medians
}

/// The summary over every configuration, and the targets.
pub(super) fn print_summary(all: &BTreeMap<Key, BTreeMap<Side, Medians>>) {
    println!("\n== summary (medians; rates in input lines/s) ==");
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "configuration",
        "ours/s",
        "java/s",
        "quix/s",
        "ours/java",
        "ours/quix",
        "CPU o/j",
        "ours CPU",
        "ours RSS",
        "eos/alos"
    );
    let get = |k: &Key, s: Side| all.get(k).and_then(|m| m.get(&s)).copied();
    let mut checks: Vec<(String, bool)> = Vec::new();
    for (key, sides) in all {
        let (topo, shape, guarantee) = *key;
        let ours = sides.get(&Side::Ours).copied().unwrap_or_default();
        let java = sides.get(&Side::Java).copied().unwrap_or_default();
        let quix = sides.get(&Side::Quix).copied().unwrap_or_default();
        let eos_cost = if guarantee == Guarantee::Eos {
            ratio(
                ours.rate,
                get(&(topo, shape, Guarantee::Alos), Side::Ours).and_then(|m| m.rate),
            )
        } else {
            None
        };
        let name = format!("{} {} {}", topo.name(), shape.name(), guarantee.name());
        println!(
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            name,
            fmt(ours.rate, 0),
            fmt(java.rate, 0),
            fmt(quix.rate, 0),
            fmt(ratio(ours.rate, java.rate), 2),
            fmt(ratio(ours.rate, quix.rate), 2),
            fmt(ratio(ours.cpu, java.cpu), 2),
            fmt(ours.cpu, 2),
            fmt(ours.rss, 0),
            fmt(eos_cost, 2),
        );
        if let Some(r) = ratio(ours.rate, java.rate) {
            checks.push((
                format!("{name}: >= 2x Java's records/s ({r:.2}x)"),
                r >= 2.0,
            ));
        }
        if let Some(r) = ratio(ours.cpu, java.cpu) {
            checks.push((format!("{name}: <= 1/4 of Java's CPU ({r:.2}x)"), r <= 0.25));
        }
        if let Some(r) = ratio(ours.rate, quix.rate) {
            checks.push((
                format!("{name}: >= 20x Quix's records/s ({r:.1}x)"),
                r >= 20.0,
            ));
        }
        if let Some(rss) = ours.rss {
            checks.push((
                format!("{name}: peak RSS <= 50 MB ({rss:.0} MB)"),
                rss <= 50.0,
            ));
        }
        if let Some(r) = eos_cost {
            checks.push((
                format!(
                    "{name}: exactly-once >= 90 % of at-least-once ({:.0} %)",
                    r * 100.0
                ),
                r >= 0.9,
            ));
        }
    }
    println!("\ntargets:");
    for (what, met) in &checks {
        println!("  [{}] {what}", if *met { "met" } else { "NOT met" });
    }
}

// ---- the driver -------------------------------------------------------------------------------
