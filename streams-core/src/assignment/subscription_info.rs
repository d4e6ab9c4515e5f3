//! What each member tells the leader in its subscription's user data (Kafka's
//! `SubscriptionInfo`), in our own versioned binary format.
//!
//! # Format, version 2
//!
//! All integers big-endian. A string is an `i16` byte length (-1 for none) then UTF-8 bytes; a
//! task is its sub-topology as `u32` then its partition as `i32`; an array is an `i32` count
//! then its elements.
//!
//! | field | type | meaning |
//! |---|---|---|
//! | version | `i32` | 2 |
//! | latest_supported_version | `i32` | the newest version the sender reads |
//! | process_id | 16 bytes | the sender's application instance (UUID) |
//! | previous_active | task array | the active tasks the member owns now |
//! | previous_standby | task array | the standby tasks the member owns now |
//! | task_offset_sums | `i32` count (-1: none), then (task, `i64`) pairs | per task, the sum of its changelog offsets the member has locally (for lags) |
//! | endpoint | string | `application.server` (`host:port`), or none |
//! | error_code | `i32` | [`AssignmentErrorCode`] |
//! | client_tags | `i32` count, then (key string, value string) pairs | since version 2: the instance's `client.tag.<key>` settings, for rack-aware standby placement (`rack.aware.assignment.tags`) |
//!
//! Later versions only append fields, so a newer version is read as ours and its extra bytes
//! are ignored, and an older one lacks the fields appended since (version 1 has no client
//! tags); version 0 or negative is an error.
//!
//! This is kafka-wire's own format, not Java's `SubscriptionInfoData` (whose version 11 added
//! the same client tags as `[]ClientTag{key bytes, value bytes}`): kafka-wire and Java Kafka
//! Streams instances cannot share an application group, so only our own versions need to
//! interoperate.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use kafka_wire::protocol::Uuid;

use super::codec::{CodecError, Reader, Writer, TASK_SIZE};
use super::error_code::AssignmentErrorCode;
use crate::TaskId;

/// The newest [`SubscriptionInfo`] version this release writes and reads.
pub const SUBSCRIPTION_INFO_VERSION: i32 = 2;

const WHAT: &str = "SubscriptionInfo";

/// One member's streams-specific subscription data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// The version this was read at (or is written at).
    pub version: i32,
    /// The newest version the sender can read.
    pub latest_supported_version: i32,
    /// The sender's application instance: members with the same process id are threads of one
    /// `KafkaStreams` instance and share its state directory.
    pub process_id: Uuid,
    /// Active tasks the member owns now.
    pub previous_active: BTreeSet<TaskId>,
    /// Standby tasks the member owns now.
    pub previous_standby: BTreeSet<TaskId>,
    /// Per task with local state, the sum of the changelog offsets the member has; `None`
    /// when the member does not report them.
    pub task_offset_sums: Option<BTreeMap<TaskId, i64>>,
    /// The member's `application.server` (`host:port`) for interactive queries, if set.
    pub endpoint: Option<String>,
    /// An error the member reports (e.g. a shutdown request).
    pub error_code: AssignmentErrorCode,
    /// The instance's client tags (`client.tag.<key>` = value), for rack-aware standby
    /// placement; empty when none are set or the sender writes version 1.
    pub client_tags: BTreeMap<String, String>,
}

impl SubscriptionInfo {
    /// A subscription at the newest version, with no tasks, offsets, endpoint or error.
    pub fn new(process_id: Uuid) -> Self {
        SubscriptionInfo {
            version: SUBSCRIPTION_INFO_VERSION,
            latest_supported_version: SUBSCRIPTION_INFO_VERSION,
            process_id,
            previous_active: BTreeSet::new(),
            previous_standby: BTreeSet::new(),
            task_offset_sums: None,
            endpoint: None,
            error_code: AssignmentErrorCode::None,
            client_tags: BTreeMap::new(),
        }
    }

    /// Encode at [`SUBSCRIPTION_INFO_VERSION`] (the `version` field is not consulted).
    pub fn encode(&self) -> Bytes {
        let mut w = Writer::default();
        w.i32(SUBSCRIPTION_INFO_VERSION);
        w.i32(SUBSCRIPTION_INFO_VERSION);
        w.uuid(&self.process_id);
        w.tasks(self.previous_active.iter());
        w.tasks(self.previous_standby.iter());
        match &self.task_offset_sums {
            None => w.i32(-1),
            Some(sums) => {
                w.count(sums.len());
                for (task, sum) in sums {
                    w.task(task);
                    w.i64(*sum);
                }
            }
        }
        w.nullable_string(self.endpoint.as_deref());
        w.i32(self.error_code.code());
        w.count(self.client_tags.len());
        for (key, value) in &self.client_tags {
            w.string(key);
            w.string(value);
        }
        w.finish()
    }

    /// Decode user data written by [`SubscriptionInfo::encode`] (of this or a newer release).
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(WHAT, bytes);
        let version = r.version(SUBSCRIPTION_INFO_VERSION)?;
        let latest_supported_version = r.i32("latest_supported_version")?;
        let process_id = r.uuid("process_id")?;
        let previous_active = r.tasks("previous_active")?.into_iter().collect();
        let previous_standby = r.tasks("previous_standby")?.into_iter().collect();
        let task_offset_sums = match r.nullable_count("task_offset_sums", TASK_SIZE + 8)? {
            None => None,
            Some(n) => {
                let mut sums = BTreeMap::new();
                for _ in 0..n {
                    let task = r.task("task_offset_sums")?;
                    let sum = r.i64("task_offset_sums")?;
                    if sums.insert(task, sum).is_some() {
                        return Err(
                            r.invalid("task_offset_sums", format!("task {task} is listed twice"))
                        );
                    }
                }
                Some(sums)
            }
        };
        let endpoint = r.nullable_string("endpoint")?;
        let error_code = AssignmentErrorCode::from_code(r.i32("error_code")?);
        let mut client_tags = BTreeMap::new();
        if version >= 2 {
            for _ in 0..r.count("client_tags", 2 + 2)? {
                let key = r.string("client_tags")?;
                let value = r.string("client_tags")?;
                if client_tags.contains_key(&key) {
                    return Err(r.invalid("client_tags", format!("tag {key:?} is listed twice")));
                }
                client_tags.insert(key, value);
            }
        }
        Ok(SubscriptionInfo {
            version,
            latest_supported_version,
            process_id,
            previous_active,
            previous_standby,
            task_offset_sums,
            endpoint,
            error_code,
            client_tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> SubscriptionInfo {
        let mut s = SubscriptionInfo::new(Uuid([7; 16]));
        s.previous_active = [TaskId::new(0, 1), TaskId::new(2, 0)].into();
        s.previous_standby = [TaskId::new(1, 3)].into();
        s.task_offset_sums = Some([(TaskId::new(1, 3), 42)].into());
        s.endpoint = Some("host-a:8080".into());
        s.client_tags = [("zone".to_string(), "eu-1a".to_string())].into();
        s
    }

    #[test]
    fn a_subscription_round_trips() {
        let s = sample();
        assert_eq!(SubscriptionInfo::decode(&s.encode()), Ok(s));
        let empty = SubscriptionInfo::new(Uuid::ZERO);
        assert_eq!(SubscriptionInfo::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(
                SubscriptionInfo::decode(&bytes[..len]).is_err(),
                "truncated to {len} bytes"
            );
        }
    }

    #[test]
    fn a_newer_version_is_read_as_ours_ignoring_appended_fields() {
        let mut bytes = sample().encode().to_vec();
        bytes[3] = 5;
        bytes.extend_from_slice(b"future fields");
        let s = SubscriptionInfo::decode(&bytes).expect("decodes");
        assert_eq!(s.version, SUBSCRIPTION_INFO_VERSION);
        assert_eq!(s.previous_active, sample().previous_active);
    }

    #[test]
    fn a_version_one_subscription_is_read_without_client_tags() {
        let mut s = sample();
        s.client_tags.clear();
        let mut bytes = s.encode().to_vec();
        // Version 1 ends after the error code: drop the (empty) tag count and say version 1.
        bytes.truncate(bytes.len() - 4);
        bytes[3] = 1;
        let read = SubscriptionInfo::decode(&bytes).expect("decodes");
        assert_eq!(read.version, 1);
        assert!(read.client_tags.is_empty());
        assert_eq!(read.endpoint, s.endpoint);
    }

    #[test]
    fn a_tag_listed_twice_is_refused() {
        let mut s = sample();
        s.client_tags.clear();
        let mut bytes = s.encode().to_vec();
        bytes.truncate(bytes.len() - 4);
        let mut w = Writer::default();
        w.i32(2);
        for _ in 0..2 {
            w.string("zone");
            w.string("a");
        }
        bytes.extend_from_slice(&w.finish());
        let err = SubscriptionInfo::decode(&bytes).expect_err("refused");
        assert!(err.to_string().contains("client_tags"), "{err}");
    }

    #[test]
    fn version_zero_and_huge_counts_are_refused() {
        let mut bytes = sample().encode().to_vec();
        bytes[3] = 0;
        assert!(matches!(
            SubscriptionInfo::decode(&bytes),
            Err(CodecError::UnsupportedVersion { version: 0, .. })
        ));
        // version 1, latest 1, process id, then a count of 2^31-1 tasks in 0 bytes.
        let mut bytes = vec![0, 0, 0, 1, 0, 0, 0, 1];
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&i32::MAX.to_be_bytes());
        let err = SubscriptionInfo::decode(&bytes).expect_err("refused");
        assert!(
            err.to_string().contains("previous_active"),
            "names the field: {err}"
        );
    }

    fn task() -> impl Strategy<Value = TaskId> {
        (0u32..20, 0i32..50).prop_map(|(s, p)| TaskId::new(s, p))
    }

    proptest! {
        #[test]
        fn any_subscription_round_trips(
            id in any::<[u8; 16]>(),
            active in proptest::collection::btree_set(task(), 0..20),
            standby in proptest::collection::btree_set(task(), 0..20),
            sums in proptest::option::of(proptest::collection::btree_map(task(), any::<i64>(), 0..10)),
            endpoint in proptest::option::of("[a-z0-9.-]{0,20}:[0-9]{1,5}"),
            code in -1i32..6,
            tags in proptest::collection::btree_map("[a-z]{1,20}", "[a-z0-9-]{0,30}", 0..5),
        ) {
            let s = SubscriptionInfo {
                version: SUBSCRIPTION_INFO_VERSION,
                latest_supported_version: SUBSCRIPTION_INFO_VERSION,
                process_id: Uuid(id),
                previous_active: active,
                previous_standby: standby,
                task_offset_sums: sums,
                endpoint,
                error_code: AssignmentErrorCode::from_code(code),
                client_tags: tags,
            };
            prop_assert_eq!(SubscriptionInfo::decode(&s.encode()), Ok(s));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SubscriptionInfo::decode(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(index in 0usize..200, byte in any::<u8>()) {
            let mut bytes = sample().encode().to_vec();
            let i = index % bytes.len();
            bytes[i] = byte;
            let _ = SubscriptionInfo::decode(&bytes);
        }
    }
}
