//! [`Windowed`] keys (Kafka's `Windowed<K>`: a record key and the window it was aggregated
//! in) and their serdes, byte for byte as Java's: [`TimeWindowedSerde`] writes
//! `key ‖ window start` (8 bytes, big-endian; `TimeWindowedSerializer`), [`SessionWindowedSerde`]
//! `key ‖ window end ‖ window start` (`SessionWindowedSerializer`).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::serde::{Deserializer, SerdeError, Serializer};

use crate::serdes::DynSerde;

/// A window: `[start, end)` for time windows, `[start, end]` for sessions (ms since the
/// epoch; Kafka's `Window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// The first millisecond in the window.
    pub start: i64,
    /// Where the window ends: exclusive for time windows, inclusive for sessions.
    pub end: i64,
}

impl Window {
    /// The window `[start, end)`.
    pub fn new(start: i64, end: i64) -> Self {
        Window { start, end }
    }

    /// A time window of `size` ms from `start`; an end past `i64::MAX` is `i64::MAX` (Kafka's
    /// `TimeWindowedDeserializer` does the same).
    pub fn of_size(start: i64, size: i64) -> Self {
        Window {
            start,
            end: start.checked_add(size).unwrap_or(i64::MAX),
        }
    }
}

/// A key and the window its aggregate belongs to (Kafka's `Windowed<K>`); the key of a
/// windowed aggregation's table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: Window,
}

impl<K> Windowed<K> {
    /// `key` in `window`.
    pub fn new(key: K, window: Window) -> Self {
        Windowed { key, window }
    }
}

impl<K: fmt::Display> fmt::Display for Windowed<K> {
    /// As Java's `Windowed.toString()`: `[key@start/end]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}@{}/{}]",
            self.key, self.window.start, self.window.end
        )
    }
}

/// Time-windowed keys as Java's `TimeWindowedSerde`: the inner key's bytes, then the window
/// start (8 bytes, big-endian). Reading needs the window size, as Java's deserializer does
/// (the end is not written).
#[derive(Clone)]
pub struct TimeWindowedSerde<K> {
    inner: DynSerde<K>,
    window_size: i64,
}

impl<K> fmt::Debug for TimeWindowedSerde<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeWindowedSerde")
            .field("window_size", &self.window_size)
            .finish_non_exhaustive()
    }
}

impl<K: 'static> TimeWindowedSerde<K> {
    /// Keys written by `inner`, windows `window_size` ms long (Kafka's
    /// `WindowedSerdes.timeWindowedSerdeFrom(type, windowSize)`).
    pub fn new(inner: impl streams_core::serde::Serde<K>, window_size: i64) -> Self {
        TimeWindowedSerde {
            inner: DynSerde::new(inner),
            window_size,
        }
    }

    /// With an inner serde already boxed.
    pub fn from_dyn(inner: DynSerde<K>, window_size: i64) -> Self {
        TimeWindowedSerde { inner, window_size }
    }
}

impl<K: 'static> Serializer<Windowed<K>> for TimeWindowedSerde<K> {
    fn serialize(&self, topic: &str, value: &Windowed<K>) -> Result<Option<Bytes>, SerdeError> {
        let key = self.inner.serialize(topic, &value.key)?.ok_or_else(|| {
            SerdeError::new(
                "TimeWindowedSerde",
                topic,
                "the inner key serialized to null",
            )
        })?;
        let mut buf = BytesMut::with_capacity(key.len() + 8);
        buf.put_slice(&key);
        buf.put_i64(value.window.start);
        Ok(Some(buf.freeze()))
    }

    fn is_null(&self, _value: &Windowed<K>) -> bool {
        false
    }
}

impl<K: 'static> Deserializer<Windowed<K>> for TimeWindowedSerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Windowed<K>, SerdeError> {
        let data = data.ok_or_else(|| {
            SerdeError::new(
                "TimeWindowedSerde",
                topic,
                "null where a windowed key was expected",
            )
        })?;
        let (key, start) = split_suffix(data, 8)
            .ok_or_else(|| SerdeError::new("TimeWindowedSerde", topic, too_short(data.len(), 8)))?;
        let start = read_i64(start);
        Ok(Windowed {
            key: self.inner.deserialize(topic, Some(key))?,
            window: Window::of_size(start, self.window_size),
        })
    }
}

/// Session-windowed keys as Java's `SessionWindowedSerde`: the inner key's bytes, the
/// session's end, then its start (8 bytes each, big-endian).
#[derive(Clone)]
pub struct SessionWindowedSerde<K> {
    inner: DynSerde<K>,
}

impl<K> fmt::Debug for SessionWindowedSerde<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionWindowedSerde")
            .finish_non_exhaustive()
    }
}

impl<K: 'static> SessionWindowedSerde<K> {
    /// Keys written by `inner` (Kafka's `WindowedSerdes.sessionWindowedSerdeFrom(type)`).
    pub fn new(inner: impl streams_core::serde::Serde<K>) -> Self {
        SessionWindowedSerde {
            inner: DynSerde::new(inner),
        }
    }

    /// With an inner serde already boxed.
    pub fn from_dyn(inner: DynSerde<K>) -> Self {
        SessionWindowedSerde { inner }
    }
}

impl<K: 'static> Serializer<Windowed<K>> for SessionWindowedSerde<K> {
    fn serialize(&self, topic: &str, value: &Windowed<K>) -> Result<Option<Bytes>, SerdeError> {
        let key = self.inner.serialize(topic, &value.key)?.ok_or_else(|| {
            SerdeError::new(
                "SessionWindowedSerde",
                topic,
                "the inner key serialized to null",
            )
        })?;
        let mut buf = BytesMut::with_capacity(key.len() + 16);
        buf.put_slice(&key);
        buf.put_i64(value.window.end);
        buf.put_i64(value.window.start);
        Ok(Some(buf.freeze()))
    }

    fn is_null(&self, _value: &Windowed<K>) -> bool {
        false
    }
}

impl<K: 'static> Deserializer<Windowed<K>> for SessionWindowedSerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Windowed<K>, SerdeError> {
        let data = data.ok_or_else(|| {
            SerdeError::new(
                "SessionWindowedSerde",
                topic,
                "null where a windowed key was expected",
            )
        })?;
        let (key, times) = split_suffix(data, 16).ok_or_else(|| {
            SerdeError::new("SessionWindowedSerde", topic, too_short(data.len(), 16))
        })?;
        let (end, start) = times.split_at(8);
        Ok(Windowed {
            key: self.inner.deserialize(topic, Some(key))?,
            window: Window::new(read_i64(start), read_i64(end)),
        })
    }
}

/// `data` without its last `n` bytes, and those bytes; `None` when shorter than `n`.
fn split_suffix(data: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    let at = data.len().checked_sub(n)?;
    Some(data.split_at(at))
}

/// A big-endian i64 from exactly 8 bytes (callers split them off).
fn read_i64(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    i64::from_be_bytes(a)
}

fn too_short(len: usize, n: usize) -> String {
    format!("{len} bytes is shorter than the {n}-byte window suffix of a windowed key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::StringSerde;

    #[test]
    fn time_windowed_keys_are_written_as_java_writes_them() {
        let serde = TimeWindowedSerde::new(StringSerde, 5_000);
        let w = Windowed::new("k".to_owned(), Window::of_size(10_000, 5_000));
        let bytes = serde.serialize("t", &w).unwrap().unwrap();
        assert_eq!(&bytes[..], &[b'k', 0, 0, 0, 0, 0, 0, 0x27, 0x10]);
        assert_eq!(serde.deserialize("t", Some(&bytes)).unwrap(), w);
        assert_eq!(w.to_string(), "[k@10000/15000]");
        assert!(serde.deserialize("t", Some(&[1, 2])).is_err());
        assert!(serde.deserialize("t", None).is_err());
        // An end past i64::MAX is i64::MAX, as in Java.
        let far = TimeWindowedSerde::<String>::new(StringSerde, i64::MAX);
        let w = far.deserialize("t", Some(&bytes)).unwrap();
        assert_eq!(w.window.end, i64::MAX);
    }

    #[test]
    fn session_windowed_keys_carry_end_then_start() {
        let serde = SessionWindowedSerde::new(StringSerde);
        let w = Windowed::new("k".to_owned(), Window::new(1, 2));
        let bytes = serde.serialize("t", &w).unwrap().unwrap();
        assert_eq!(
            &bytes[..],
            &[b'k', 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(serde.deserialize("t", Some(&bytes)).unwrap(), w);
        assert!(serde.deserialize("t", Some(&[0; 15])).is_err());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes read as a windowed key give a key or an error, never a panic.
            #[test]
            fn any_bytes_deserialize_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..64)) {
                let _ = TimeWindowedSerde::<String>::new(StringSerde, 1000).deserialize("t", Some(&data));
                let _ = SessionWindowedSerde::<String>::new(StringSerde).deserialize("t", Some(&data));
            }

            /// Windowed keys read back as written.
            #[test]
            fn windowed_keys_round_trip(key in "\\PC{0,10}", start in any::<i64>(), end in any::<i64>()) {
                let session = SessionWindowedSerde::new(StringSerde);
                let w = Windowed::new(key.clone(), Window::new(start, end));
                let bytes = session.serialize("t", &w).ok().flatten().unwrap_or_default();
                prop_assert_eq!(session.deserialize("t", Some(&bytes)).ok(), Some(w));
                let time = TimeWindowedSerde::new(StringSerde, 10);
                let w = Windowed::new(key, Window::of_size(start, 10));
                let bytes = time.serialize("t", &w).ok().flatten().unwrap_or_default();
                prop_assert_eq!(time.deserialize("t", Some(&bytes)).ok(), Some(w));
            }
        }
    }
}
