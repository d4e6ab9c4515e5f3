//! Window specifications of windowed aggregations (Kafka's `Windows`): [`TimeWindows`]
//! (tumbling and hopping), [`SlidingWindows`] (KIP-450) and [`SessionWindows`], with their
//! grace periods, validated as Java validates them ([`WindowsError`]), and
//! [`EmitStrategy`] (KIP-825).
//!
//! The window arithmetic — which windows a timestamp falls in, when a window closes — lives
//! here as plain functions, tested without a driver or clock.

mod session;
mod sliding;
mod time;

pub use session::SessionWindows;
pub use sliding::SlidingWindows;
pub use time::TimeWindows;

use std::time::Duration;

/// A window specification Kafka would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowsError {
    /// A time window of size 0 (Java: "Window size (sizeMs) must be larger than zero.").
    #[error("the window size must be larger than zero, got {size_ms} ms: give TimeWindows a positive size")]
    NonPositiveSize {
        /// The size given.
        size_ms: i64,
    },
    /// A hop of 0 or larger than the window (Java: "Window advancement interval should be
    /// more than zero and less than window duration").
    #[error("the window advance must be more than zero and at most the window size ({size_ms} ms), got {advance_ms} ms: advance_by a value in (0, size]")]
    InvalidAdvance {
        /// The window size.
        size_ms: i64,
        /// The advance given.
        advance_ms: i64,
    },
    /// A session gap of 0 (Java: "Gap time cannot be zero or negative.").
    #[error(
        "the session inactivity gap must be larger than zero: give SessionWindows a positive gap"
    )]
    NonPositiveGap,
    /// A duration past `i64::MAX` milliseconds (Java's `Duration.toMillis` overflows).
    #[error("{what} of {duration:?} does not fit in i64 milliseconds: give a shorter duration")]
    TooLong {
        /// Which duration (window size, grace period, …).
        what: &'static str,
        /// The duration given.
        duration: Duration,
    },
}

/// `duration` in ms, or [`WindowsError::TooLong`].
pub(crate) fn millis(what: &'static str, duration: Duration) -> Result<i64, WindowsError> {
    i64::try_from(duration.as_millis()).map_err(|_| WindowsError::TooLong { what, duration })
}

/// A window specification a grouped stream can be windowed by
/// ([`crate::KGroupedStream::windowed_by`]), as Java's `windowedBy` overloads: each gives its
/// windowed stream type. Implemented by [`TimeWindows`], [`SlidingWindows`] and
/// [`SessionWindows`] only.
pub trait WindowSpec<K, V>: sealed::Sealed {
    /// The windowed stream the aggregations are called on.
    type Stream;
    /// `grouped`, windowed by `self`.
    #[doc(hidden)]
    fn windowed(self, grouped: crate::KGroupedStream<K, V>) -> Self::Stream;
}

/// A window specification cogrouped streams can be windowed by
/// ([`crate::CogroupedKStream::windowed_by`]), as Java's `CogroupedKStream.windowedBy`
/// overloads: each gives its windowed cogroup type. Implemented by [`TimeWindows`],
/// [`SlidingWindows`] and [`SessionWindows`] only.
pub trait CogroupWindowSpec<K, VOut>: sealed::Sealed {
    /// The windowed cogroup the aggregation is called on.
    type Stream;
    /// `cogroup`, windowed by `self`.
    #[doc(hidden)]
    fn cogroup_windowed(self, cogroup: crate::CogroupedKStream<K, VOut>) -> Self::Stream;
}

mod sealed {
    /// Only this crate's window specifications.
    pub trait Sealed {}
    impl Sealed for super::TimeWindows {}
    impl Sealed for super::SessionWindows {}
    impl Sealed for super::SlidingWindows {}
}

/// When a windowed aggregation forwards its results (KIP-825, Kafka's `EmitStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmitStrategy {
    /// Each update of a window (through the record cache when the store caches), Kafka's
    /// `EmitStrategy.onWindowUpdate()`, the default.
    #[default]
    OnWindowUpdate,
    /// Each window's final result once, when stream time passes its end plus the grace
    /// period (Kafka's `EmitStrategy.onWindowClose()`).
    OnWindowClose,
}
