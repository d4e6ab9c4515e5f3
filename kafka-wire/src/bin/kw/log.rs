//! `-d` and `-v`: the library's `tracing` events on stderr, without a logging dependency.
//!
//! `-d` takes kcat's (librdkafka's) debug contexts and maps them to the modules that do that
//! work, at debug level (`all` is everything). By default the library's own events are not
//! shown (errors reach the user as `% ERROR:` lines); `-v` adds its warnings and errors,
//! `-v -v` its info events.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};

/// The modules behind each librdkafka debug context.
const CONTEXTS: &[(&str, &[&str])] = &[
    ("generic", &["kafka_wire"]),
    ("broker", &["kafka_wire::connection", "kafka_wire::cluster"]),
    (
        "protocol",
        &["kafka_wire::connection", "kafka_wire::protocol"],
    ),
    ("metadata", &["kafka_wire::cluster"]),
    ("topic", &["kafka_wire::cluster"]),
    ("feature", &["kafka_wire::connection"]),
    ("msg", &["kafka_wire::producer"]),
    ("queue", &["kafka_wire::producer"]),
    ("eos", &["kafka_wire::producer"]),
    ("cgrp", &["kafka_wire::group", "kafka_wire::consumer"]),
    ("assignor", &["kafka_wire::group"]),
    ("consumer", &["kafka_wire::consumer", "kafka_wire::group"]),
    ("fetch", &["kafka_wire::consumer"]),
    ("security", &["kafka_wire::sasl", "kafka_wire::connection"]),
    ("admin", &["kafka_wire::admin"]),
    ("conf", &["kafka_wire::config"]),
];

/// Which events are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The level for every target.
    base: Option<Level>,
    /// Targets (module prefixes) shown down to debug level.
    debug: Vec<&'static str>,
    /// `-d all`: everything at trace level.
    all: bool,
}

impl Filter {
    /// The filter for `-d <contexts>` and the verbosity; unknown contexts are an error.
    pub fn new(debug: Option<&str>, verbosity: u8) -> Result<Filter, String> {
        let base = match verbosity {
            0 | 1 => None,
            2 => Some(Level::WARN),
            _ => Some(Level::INFO),
        };
        let mut f = Filter {
            base,
            debug: Vec::new(),
            all: false,
        };
        for c in debug.unwrap_or("").split(',').map(str::trim) {
            match c {
                "" => {}
                "all" => f.all = true,
                _ => match CONTEXTS.iter().find(|(name, _)| *name == c) {
                    Some((_, targets)) => f.debug.extend_from_slice(targets),
                    // librdkafka contexts with no counterpart here are accepted and ignored.
                    None if ["interceptor", "plugin", "mock"].contains(&c) => {}
                    None => {
                        let known: Vec<&str> = CONTEXTS.iter().map(|(n, _)| *n).collect();
                        return Err(format!(
                            "unknown -d debug context {c:?}: expected all or {}",
                            known.join(",")
                        ));
                    }
                },
            }
        }
        Ok(f)
    }

    fn enabled(&self, m: &Metadata<'_>) -> bool {
        if self.all {
            return true;
        }
        let target = m.target();
        let in_module = |p: &&str| {
            target == *p
                || target
                    .strip_prefix(*p)
                    .is_some_and(|rest| rest.starts_with("::"))
        };
        (*m.level() <= Level::DEBUG && self.debug.iter().any(in_module))
            || self.base.is_some_and(|b| *m.level() <= b)
    }

    /// Whether anything at all can be printed.
    pub fn is_off(&self) -> bool {
        !self.all && self.debug.is_empty() && self.base.is_none()
    }
}

/// Install the stderr printer for `filter` (once, process-wide).
pub fn install(filter: Filter) {
    if filter.is_off() {
        return;
    }
    let _ = tracing::subscriber::set_global_default(Printer { filter });
}

struct Printer {
    filter: Filter,
}

struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Printer {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.filter.enabled(m)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, e: &Event<'_>) {
        let m = e.metadata();
        let mut f = Fields(format!("%{} {}:", level_number(m.level()), m.target()));
        e.record(&mut f);
        let _ = writeln!(std::io::stderr().lock(), "{}", f.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// syslog levels, as librdkafka's log lines (`%7|...` is debug).
fn level_number(l: &Level) -> u8 {
    match *l {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_map_to_modules() {
        let f = Filter::new(Some("broker,msg"), 1).unwrap();
        assert!(f.debug.contains(&"kafka_wire::producer"));
        assert!(f.debug.contains(&"kafka_wire::connection"));
        assert!(Filter::new(Some("nonsense"), 1)
            .unwrap_err()
            .contains("nonsense"));
        assert!(Filter::new(None, 1).unwrap().is_off());
        assert!(!Filter::new(None, 2).unwrap().is_off());
        assert!(Filter::new(Some("all"), 0).unwrap().all);
    }
}
