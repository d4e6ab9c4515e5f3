//! One table of keys per client: each row is a property's Kafka name, its kind, its default as
//! Kafka writes it, a line of documentation, and how to parse, check, set and read it. `set`,
//! the defaults, `dump` (kcat's `-X dump`), `docs/configuration.md` and the unknown-key hint are
//! all driven by the same rows.

use std::time::Duration;

use super::{ClientConfig, ConfigError};

/// What kind of value a key takes (for documentation and redaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Milliseconds, a non-negative integer.
    Millis,
    /// A number of bytes.
    Bytes,
    /// An integer.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// Free text.
    Text,
    /// A comma-separated list.
    List,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A file path.
    Path,
    /// A password or a login configuration: never printed.
    Secret,
}

impl ValueKind {
    /// A short description for documentation.
    pub fn describe(self) -> String {
        match self {
            ValueKind::Millis => "milliseconds".into(),
            ValueKind::Bytes => "bytes".into(),
            ValueKind::Integer => "integer".into(),
            ValueKind::Boolean => "true/false".into(),
            ValueKind::Text => "string".into(),
            ValueKind::List => "list".into(),
            ValueKind::Choice(words) => words.join(" \\| "),
            ValueKind::Path => "path".into(),
            ValueKind::Secret => "password".into(),
        }
    }
}

/// One configuration key of a client whose settings are a `C`.
pub struct ConfigKey<C: 'static> {
    /// The Kafka property name, e.g. `linger.ms`.
    pub name: &'static str,
    /// What kind of value it takes.
    pub kind: ValueKind,
    /// The default as Kafka writes it (empty: unset).
    pub default: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    /// Parse, check and store a value; `Err` says what would have been accepted.
    pub set: fn(&mut C, &str) -> Result<(), String>,
    /// The current value, written as it would be set (secrets redacted by the caller).
    pub get: fn(&C) -> String,
}

impl<C> std::fmt::Debug for ConfigKey<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigKey")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("default", &self.default)
            .finish()
    }
}

/// A client's settings, set by key: what a higher layer needs to hold a client's keys beside its
/// own ([`crate::layered`]).
pub trait Configurable: Sized {
    /// Set `key` if this client takes it: `Ok(false)` when it does not.
    fn try_set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError>;
    /// Whether this client takes `key`.
    fn owns(key: &str) -> bool;
    /// Every key this client takes.
    fn key_names() -> Vec<&'static str>;

    /// Every key with its current value (secrets redacted), as kcat's `-X dump` prints them.
    fn dump(&self) -> Vec<(&'static str, String)>;

    /// Set `key`, or refuse it with the list of the keys this client takes.
    fn set_known(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if self.try_set(key, value)? {
            Ok(())
        } else {
            Err(unknown_key(key, Self::key_names()))
        }
    }
}

/// A client whose settings are its own key table over the keys every client shares
/// ([`ClientConfig`]): implementing this gives it [`Configurable`].
pub trait ClientSettings: Sized + 'static {
    /// The client's own keys.
    const KEYS: &'static [ConfigKey<Self>];
    /// The shared client settings.
    fn client(&self) -> &ClientConfig;
    /// The shared client settings, to change.
    fn client_mut(&mut self) -> &mut ClientConfig;
}

impl<C: ClientSettings> Configurable for C {
    fn try_set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        Ok(set(C::KEYS, self, key, value)? || self.client_mut().try_set(key, value)?)
    }
    fn owns(key: &str) -> bool {
        find(C::KEYS, key).is_some() || ClientConfig::owns(key)
    }
    fn key_names() -> Vec<&'static str> {
        C::KEYS
            .iter()
            .map(|k| k.name)
            .chain(ClientConfig::key_names())
            .collect()
    }
    fn dump(&self) -> Vec<(&'static str, String)> {
        let mut out = dump(C::KEYS, self);
        out.extend(self.client().dump());
        out
    }
}

/// The row for `key`, if the table has one.
pub fn find<C>(table: &'static [ConfigKey<C>], key: &str) -> Option<&'static ConfigKey<C>> {
    table.iter().find(|k| k.name == key)
}

/// Set `key` from `table`: `Ok(false)` when the table has no such key.
pub fn set<C>(
    table: &'static [ConfigKey<C>],
    config: &mut C,
    key: &str,
    value: &str,
) -> Result<bool, ConfigError> {
    let Some(row) = find(table, key) else {
        return Ok(false);
    };
    (row.set)(config, value).map_err(|expected| ConfigError::InvalidValue {
        key: key.to_owned(),
        value: if row.kind == ValueKind::Secret {
            "<redacted>".into()
        } else {
            value.to_owned()
        },
        expected,
    })?;
    Ok(true)
}

/// Every key of `table` with its current value in `config` (secrets redacted).
pub fn dump<C>(table: &'static [ConfigKey<C>], config: &C) -> Vec<(&'static str, String)> {
    table
        .iter()
        .map(|k| {
            let v = (k.get)(config);
            let v = if k.kind == ValueKind::Secret && !v.is_empty() {
                "<redacted>".into()
            } else {
                v
            };
            (k.name, v)
        })
        .collect()
}

/// The unknown-key error, listing `known` with the keys sharing `key`'s first word first (the
/// likely typo).
pub fn unknown_key<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> ConfigError {
    let first = key.split('.').next().unwrap_or("");
    let mut known: Vec<&str> = known.into_iter().collect();
    known.sort_by_key(|k| usize::from(!k.starts_with(first)));
    ConfigError::UnknownKey {
        key: key.to_owned(),
        known: known.join(", "),
    }
}

/// A Markdown table of `table`'s keys (for `docs/configuration.md`).
pub fn markdown<C>(table: &'static [ConfigKey<C>]) -> String {
    let mut out = String::from("| key | kind | default | what it does |\n|---|---|---|---|\n");
    for k in table {
        let default = if k.default.is_empty() {
            "(unset)".to_owned()
        } else {
            format!("`{}`", k.default)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.name,
            k.kind.describe(),
            default,
            k.doc
        ));
    }
    out
}

// ---- parsers shared by the tables: each returns what would have been accepted ----

/// Milliseconds.
pub fn millis(v: &str) -> Result<Duration, String> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| "a non-negative integer number of milliseconds".into())
}

/// Milliseconds, at least `min`.
pub fn millis_at_least(v: &str, min: u64) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n >= min => Ok(Duration::from_millis(n)),
        _ => Err(format!("an integer number of milliseconds >= {min}")),
    }
}

/// An integer of type `T`, at least `min`.
pub fn at_least<T>(v: &str, min: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match v.trim().parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("an integer >= {min}")),
    }
}

/// `true` or `false`, in any case (as the Java client reads booleans).
pub fn boolean(v: &str) -> Result<bool, String> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        f if f.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("true or false".into()),
    }
}

/// Text, `None` when empty.
pub fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// A duration as Kafka writes it: whole milliseconds.
pub fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}
