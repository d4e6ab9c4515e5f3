//! [`Suppressed`]: how `KTable::suppress` holds a table's updates back (Kafka's `Suppressed`
//! and `Suppressed.BufferConfig`, KIP-328).
//!
//! As in Java, the types say which buffers each suppression takes: `until_window_closes`
//! promises final results, so its buffer is strict ([`StrictBufferConfig`]: unbounded, or
//! shutting the application down when full); `until_time_limit` takes either, an eager
//! buffer ([`EagerBufferConfig`]) emitting early when full.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::windowed::Windowed;

/// What a full buffer does (Kafka's `BufferFullStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferFullStrategy {
    /// Emit the oldest buffered updates early (`emitEarlyWhenFull`).
    EmitEarly,
    /// Stop the stream thread with an error (`shutDownWhenFull`).
    ShutDown,
}

/// A suppression buffer's limits and changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BufferConfig {
    pub max_records: u64,
    pub max_bytes: u64,
    pub strategy: BufferFullStrategy,
    pub logging: bool,
    pub logging_config: BTreeMap<String, String>,
}

impl BufferConfig {
    fn unbounded() -> Self {
        BufferConfig {
            max_records: u64::MAX,
            max_bytes: u64::MAX,
            strategy: BufferFullStrategy::ShutDown,
            logging: true,
            logging_config: BTreeMap::new(),
        }
    }

    fn eager() -> Self {
        BufferConfig {
            strategy: BufferFullStrategy::EmitEarly,
            ..Self::unbounded()
        }
    }
}

/// A buffer that emits early when full (Kafka's `EagerBufferConfig`), for
/// [`Suppressed::until_time_limit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EagerBufferConfig(pub(crate) BufferConfig);

/// A buffer that never emits early (Kafka's `StrictBufferConfig`): unbounded, or stopping
/// the application when full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictBufferConfig(pub(crate) BufferConfig);

/// Buffer limits (Kafka's `Suppressed.BufferConfig` factories).
#[derive(Debug, Clone, Copy)]
pub struct Buffer;

impl Buffer {
    /// At most `n` records, then emit early (`BufferConfig.maxRecords`).
    pub fn max_records(n: u64) -> EagerBufferConfig {
        EagerBufferConfig(BufferConfig::eager()).with_max_records(n)
    }

    /// At most `n` bytes (Kafka's estimate), then emit early (`BufferConfig.maxBytes`).
    pub fn max_bytes(n: u64) -> EagerBufferConfig {
        EagerBufferConfig(BufferConfig::eager()).with_max_bytes(n)
    }

    /// No limit (`BufferConfig.unbounded()`): memory grows with the keys held back.
    pub fn unbounded() -> StrictBufferConfig {
        StrictBufferConfig(BufferConfig::unbounded())
    }
}

macro_rules! buffer_limits {
    ($t:ty) => {
        impl $t {
            /// Also at most `n` records.
            pub fn with_max_records(mut self, n: u64) -> Self {
                self.0.max_records = n;
                self
            }

            /// Also at most `n` bytes.
            pub fn with_max_bytes(mut self, n: u64) -> Self {
                self.0.max_bytes = n;
                self
            }

            /// No changelog for the buffer: updates it held are lost when the task moves
            /// or the application restarts (`withLoggingDisabled`).
            pub fn with_logging_disabled(mut self) -> Self {
                self.0.logging = false;
                self
            }

            /// Extra topic configs for the buffer's changelog (`withLoggingEnabled`).
            pub fn with_logging_enabled(mut self, config: BTreeMap<String, String>) -> Self {
                self.0.logging = true;
                self.0.logging_config = config;
                self
            }
        }
    };
}

buffer_limits!(EagerBufferConfig);
buffer_limits!(StrictBufferConfig);

impl EagerBufferConfig {
    /// Emit the oldest updates early when full (the default of a bounded buffer).
    pub fn emit_early_when_full(mut self) -> Self {
        self.0.strategy = BufferFullStrategy::EmitEarly;
        self
    }

    /// Stop the application when full instead (`shutDownWhenFull`).
    pub fn shut_down_when_full(mut self) -> StrictBufferConfig {
        self.0.strategy = BufferFullStrategy::ShutDown;
        StrictBufferConfig(self.0)
    }
}

impl From<StrictBufferConfig> for EagerBufferConfig {
    /// A strict buffer where either is accepted (its strategy stays shut-down).
    fn from(b: StrictBufferConfig) -> Self {
        EagerBufferConfig(b.0)
    }
}

/// When a suppressed table's updates are let through.
#[derive(Clone)]
pub(crate) enum SuppressKind<K> {
    /// When the window closes: its end plus the grace of the windowed aggregation upstream.
    UntilWindowCloses {
        window_end: Arc<dyn Fn(&K) -> i64 + Send + Sync>,
    },
    /// When stream time is `wait` past the update's record time.
    UntilTimeLimit { wait: Duration },
}

/// How `KTable::suppress` holds updates back (Kafka's `Suppressed`).
#[derive(Clone)]
pub struct Suppressed<K> {
    pub(crate) kind: SuppressKind<K>,
    pub(crate) buffer: BufferConfig,
    pub(crate) name: Option<String>,
}

impl<K> std::fmt::Debug for Suppressed<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            SuppressKind::UntilWindowCloses { .. } => "until_window_closes".to_owned(),
            SuppressKind::UntilTimeLimit { wait } => format!("until_time_limit({wait:?})"),
        };
        f.debug_struct("Suppressed")
            .field("kind", &kind)
            .field("buffer", &self.buffer)
            .field("name", &self.name)
            .finish()
    }
}

impl<K: 'static> Suppressed<Windowed<K>> {
    /// Only each window's final result, once the window closed — its end plus the grace
    /// period of the windowed aggregation it comes from (`Suppressed.untilWindowCloses`).
    /// The table must be a windowed aggregation's (or derived from one): `build()` says so
    /// otherwise.
    pub fn until_window_closes(buffer: StrictBufferConfig) -> Self {
        Suppressed {
            kind: SuppressKind::UntilWindowCloses {
                window_end: Arc::new(|k: &Windowed<K>| k.window.end),
            },
            buffer: buffer.0,
            name: None,
        }
    }
}

impl<K> Suppressed<K> {
    /// Each key's latest update once stream time is `wait` past the first held-back
    /// update's timestamp (`Suppressed.untilTimeLimit`), or earlier when the buffer is full
    /// and emits early.
    pub fn until_time_limit(wait: Duration, buffer: impl Into<EagerBufferConfig>) -> Self {
        Suppressed {
            kind: SuppressKind::UntilTimeLimit { wait },
            buffer: buffer.into().0,
            name: None,
        }
    }

    /// Name the suppress processor (its buffer store is `<name>-store`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}
