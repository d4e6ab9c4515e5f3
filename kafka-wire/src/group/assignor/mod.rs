//! Partition assignors: what the group leader runs to split partitions among members.
//!
//! The classic group protocol leaves assignment to the client: every member sends its
//! [`Subscription`] (topics, owned partitions, generation, opaque user data) in JoinGroup; the
//! leader receives them all, runs the [`Assignor`] the coordinator chose, and sends each member
//! its [`Assignment`] (partitions and opaque user data) in SyncGroup. Both travel as the
//! `ConsumerProtocolSubscription` / `ConsumerProtocolAssignment` schemas of the Java client, so
//! a group can mix our consumers with Java and librdkafka ones ([`encode_subscription`] and
//! friends).
//!
//! Built in, with Java's protocol names and wire formats: [`RangeAssignor`] (`range`),
//! [`RoundRobinAssignor`] (`roundrobin`) and [`CooperativeStickyAssignor`]
//! (`cooperative-sticky`, KIP-429). Kafka Streams-style runtimes plug their own assignor in
//! through the same trait, carrying their state in the user data, and use its leader-side
//! extensions: partition counts of topics nobody subscribes to ([`Assignor::extra_topics`]),
//! the members' racks ([`MemberSubscription::rack_id`]), an async step before assigning
//! ([`Assignor::prepare`], e.g. to create internal topics) and a follow-up rebalance asked for
//! by the assignment itself ([`FollowUp`], Kafka Streams' probing rebalances).

mod common;
mod cooperative_sticky;
mod range;
mod roundrobin;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;

pub use cooperative_sticky::CooperativeStickyAssignor;
pub use range::RangeAssignor;
pub use roundrobin::RoundRobinAssignor;

use crate::error::Error;
use crate::group::leader::LeaderContext;
use crate::protocol::messages::consumer_protocol_assignment as wire_assignment;
use crate::protocol::messages::consumer_protocol_subscription as wire_subscription;
use crate::protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use crate::protocol::wire::{put_i16, Decode, DecodeError, Encode, ReadBuf};
use crate::topic_partition::partitions_by_topic;
use crate::TopicPartition;

/// The group protocol type consumers register under (`protocol_type` in JoinGroup).
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// How partitions move during a rebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RebalanceProtocol {
    /// Every member gives up all its partitions before rejoining (stop-the-world).
    Eager,
    /// Members keep their partitions; only the ones that move are revoked, and handed over in
    /// a second rebalance (KIP-429).
    Cooperative,
}

/// One member's subscription, as sent in JoinGroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Topics the member wants to consume.
    pub topics: Vec<String>,
    /// Assignor-specific data (opaque to the protocol).
    pub user_data: Option<Bytes>,
    /// Partitions the member owns now (sent from version 1; used by cooperative assignors).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation the member last joined, or -1 (sent from version 2).
    pub generation_id: i32,
    /// The member's `client.rack`, if set (sent from version 3).
    pub rack_id: Option<String>,
}

/// A member of the group as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSubscription {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its `group.instance.id` (static membership), if any.
    pub group_instance_id: Option<String>,
    /// What it sent.
    pub subscription: Subscription,
}

impl MemberSubscription {
    /// The member's `client.rack`, if it sent one (consumer protocol v3+).
    pub fn rack_id(&self) -> Option<&str> {
        self.subscription.rack_id.as_deref()
    }
}

/// What one member is given, as sent in SyncGroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// The partitions the member owns from now on.
    pub partitions: Vec<TopicPartition>,
    /// Assignor-specific data (opaque to the protocol).
    pub user_data: Option<Bytes>,
}

/// Why an assignor could not assign.
#[derive(Debug, Clone, thiserror::Error)]
#[error("assignor {assignor} failed: {detail}")]
pub struct AssignError {
    /// The assignor's name.
    pub assignor: String,
    /// What went wrong.
    pub detail: String,
}

/// What a member's assignor asks of the member once its assignment arrived
/// ([`Assignor::on_assignment`]). The default asks for nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowUp {
    /// Rejoin the group this long after the assignment arrived, even if nothing changed
    /// (Kafka Streams' `AssignmentInfo.nextRebalanceTime`, driven by
    /// `probing.rebalance.interval.ms`). A later assignment replaces the schedule.
    pub rebalance_after: Option<Duration>,
}

impl FollowUp {
    /// Nothing to do.
    pub const NONE: FollowUp = FollowUp {
        rebalance_after: None,
    };

    /// Ask for a follow-up rebalance `after` the assignment arrived.
    pub fn rebalance_after(after: Duration) -> Self {
        FollowUp {
            rebalance_after: Some(after),
        }
    }
}

/// A partition assignment strategy (Java's `ConsumerPartitionAssignor`).
///
/// The leader calls [`Assignor::assign`] with every member's subscription (sorted by member
/// id; each carries the member's rack, [`MemberSubscription::rack_id`]) and the partition
/// count of every subscribed topic, and of every topic [`Assignor::extra_topics`] names, that
/// exists; topics missing from `partitions_per_topic` are not assigned. It must return an
/// entry for every member, possibly with no partitions.
///
/// Before that, an assignor whose [`Assignor::needs_prepare`] is true gets an async step on
/// the leader ([`Assignor::prepare`]) with a [`LeaderContext`] (the cluster client, the
/// members): Kafka Streams' leader creates or validates its internal topics there.
pub trait Assignor: Send + Sync + fmt::Debug {
    /// The protocol name sent in JoinGroup (`range`, `roundrobin`, `cooperative-sticky`, …).
    fn name(&self) -> &str;

    /// The rebalance protocols this assignor supports, most preferred last.
    fn supported_protocols(&self) -> &[RebalanceProtocol] {
        &[RebalanceProtocol::Eager]
    }

    /// User data to send with this member's subscription. `owned` and `generation` are what
    /// the member holds now (empty and -1 before its first assignment).
    fn subscription_user_data(
        &self,
        topics: &[String],
        owned: &[TopicPartition],
        generation: i32,
    ) -> Option<Bytes> {
        let _ = (topics, owned, generation);
        None
    }

    /// Split the partitions among the members (leader only).
    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError>;

    /// Topics besides the subscribed ones whose partition counts the leader needs (e.g. a
    /// streams assignor's repartition and changelog topics). Called on the leader after
    /// [`Assignor::prepare`], with the members' subscriptions; their counts (for those that
    /// exist) are passed to [`Assignor::assign`] with the subscribed topics'.
    fn extra_topics(&self, members: &[MemberSubscription]) -> Vec<String> {
        let _ = members;
        Vec::new()
    }

    /// Whether the leader runs [`Assignor::prepare`] before assigning (off by default: no
    /// extra step in a rebalance).
    fn needs_prepare(&self) -> bool {
        false
    }

    /// An async step on the leader before the partition counts are looked up and
    /// [`Assignor::assign`] runs (only if [`Assignor::needs_prepare`]): create or validate
    /// topics through [`LeaderContext::admin`], etc. It must complete within the rebalance
    /// timeout. A retriable or connection error makes the member rejoin and try again; any
    /// other error fails the join (the application's poll sees it).
    fn prepare<'a>(&'a self, context: &'a LeaderContext) -> BoxFuture<'a, Result<(), Error>> {
        let _ = context;
        Box::pin(async { Ok(()) })
    }

    /// Called on every member once its assignment for `generation` arrives; the returned
    /// [`FollowUp`] may schedule a rebalance (e.g. read from the assignment's user data).
    fn on_assignment(&self, assignment: &Assignment, generation: i32) -> FollowUp {
        let _ = (assignment, generation);
        FollowUp::NONE
    }
}

/// The rebalance protocol a list of assignors can all speak: cooperative only if every one
/// supports it (as the Java consumer decides).
pub fn common_protocol(assignors: &[std::sync::Arc<dyn Assignor>]) -> RebalanceProtocol {
    if !assignors.is_empty()
        && assignors.iter().all(|a| {
            a.supported_protocols()
                .contains(&RebalanceProtocol::Cooperative)
        })
    {
        RebalanceProtocol::Cooperative
    } else {
        RebalanceProtocol::Eager
    }
}

/// The newest `ConsumerProtocolSubscription` / `Assignment` version this crate writes.
pub const CONSUMER_PROTOCOL_VERSION: i16 = 3;

/// Partitions per topic as the consumer protocol lists them: topics and partitions in order.
fn group_by_topic(partitions: &[TopicPartition]) -> BTreeMap<&str, Vec<i32>> {
    let mut by_topic = partitions_by_topic(partitions);
    for p in by_topic.values_mut() {
        p.sort_unstable();
    }
    by_topic
}

/// Encode a subscription as the bytes of JoinGroup's protocol metadata (version prefix, then
/// `ConsumerProtocolSubscription`).
pub fn encode_subscription(s: &Subscription) -> Bytes {
    let message = ConsumerProtocolSubscription {
        topics: s.topics.clone(),
        user_data: s.user_data.clone(),
        owned_partitions: group_by_topic(&s.owned_partitions)
            .into_iter()
            .map(|(topic, partitions)| wire_subscription::TopicPartition {
                topic: topic.to_owned(),
                partitions,
                ..Default::default()
            })
            .collect(),
        generation_id: s.generation_id,
        rack_id: s.rack_id.clone(),
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    put_i16(&mut buf, CONSUMER_PROTOCOL_VERSION);
    // Every field exists at the version we write; encoding cannot fail.
    let _ = message.encode(&mut buf, CONSUMER_PROTOCOL_VERSION);
    buf.freeze()
}

/// Read the version prefix; a newer version than we know is read as the newest we know
/// (newer versions only append fields), as the Java client does.
fn read_version(buf: &mut ReadBuf, field: &'static str) -> Result<i16, DecodeError> {
    let version = buf.i16(field)?;
    if version < 0 {
        return Err(DecodeError::invalid(
            field,
            format!("negative consumer protocol version {version}"),
        ));
    }
    Ok(version.min(CONSUMER_PROTOCOL_VERSION))
}

/// Decode JoinGroup protocol metadata written by any Kafka consumer (Java, librdkafka, us).
pub fn decode_subscription(bytes: Bytes) -> Result<Subscription, DecodeError> {
    let mut buf = ReadBuf::new(bytes);
    let version = read_version(&mut buf, "ConsumerProtocolSubscription.Version")?;
    let m = ConsumerProtocolSubscription::decode(&mut buf, version)?;
    Ok(Subscription {
        topics: m.topics,
        user_data: m.user_data,
        owned_partitions: m
            .owned_partitions
            .into_iter()
            .flat_map(|t| {
                let topic = t.topic;
                t.partitions
                    .into_iter()
                    .map(move |p| TopicPartition::new(topic.clone(), p))
            })
            .collect(),
        generation_id: if version >= 2 { m.generation_id } else { -1 },
        rack_id: m.rack_id,
    })
}

/// Encode an assignment as the bytes of SyncGroup's assignment.
pub fn encode_assignment(a: &Assignment) -> Bytes {
    let message = ConsumerProtocolAssignment {
        assigned_partitions: group_by_topic(&a.partitions)
            .into_iter()
            .map(|(topic, partitions)| wire_assignment::TopicPartition {
                topic: topic.to_owned(),
                partitions,
                ..Default::default()
            })
            .collect(),
        user_data: a.user_data.clone(),
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    put_i16(&mut buf, CONSUMER_PROTOCOL_VERSION);
    let _ = message.encode(&mut buf, CONSUMER_PROTOCOL_VERSION);
    buf.freeze()
}

/// Decode a SyncGroup assignment written by any Kafka consumer. An empty buffer (what the
/// coordinator sends a member the leader gave nothing) is an empty assignment.
pub fn decode_assignment(bytes: Bytes) -> Result<Assignment, DecodeError> {
    if bytes.is_empty() {
        return Ok(Assignment::default());
    }
    let mut buf = ReadBuf::new(bytes);
    let version = read_version(&mut buf, "ConsumerProtocolAssignment.Version")?;
    let m = ConsumerProtocolAssignment::decode(&mut buf, version)?;
    Ok(Assignment {
        partitions: m
            .assigned_partitions
            .into_iter()
            .flat_map(|t| {
                let topic = t.topic;
                t.partitions
                    .into_iter()
                    .map(move |p| TopicPartition::new(topic.clone(), p))
            })
            .collect(),
        user_data: m.user_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_round_trips() {
        let s = Subscription {
            topics: vec!["a".into(), "b".into()],
            user_data: Some(Bytes::from_static(b"\x00\x00\x00\x05")),
            owned_partitions: vec![TopicPartition::new("a", 1), TopicPartition::new("a", 0)],
            generation_id: 5,
            rack_id: Some("r1".into()),
        };
        let back = decode_subscription(encode_subscription(&s)).expect("decodes");
        assert_eq!(back.topics, s.topics);
        assert_eq!(back.generation_id, 5);
        assert_eq!(
            back.owned_partitions,
            vec![TopicPartition::new("a", 0), TopicPartition::new("a", 1)]
        );
    }

    /// Version 0 as written by old clients (librdkafka's eager assignors still write it):
    /// int16 version, topics array, nullable user data.
    #[test]
    fn reads_version_0_subscriptions() {
        let bytes = Bytes::from_static(b"\x00\x00\x00\x00\x00\x01\x00\x01t\xff\xff\xff\xff");
        let s = decode_subscription(bytes).expect("decodes");
        assert_eq!(s.topics, vec!["t".to_string()]);
        assert_eq!(s.generation_id, -1);
        assert!(s.owned_partitions.is_empty());
    }

    #[test]
    fn newer_versions_are_read_as_the_newest_known() {
        let mut bytes = encode_subscription(&Subscription {
            topics: vec!["t".into()],
            generation_id: 1,
            ..Default::default()
        })
        .to_vec();
        bytes[1] = 9; // version 9, fields we do not know would follow
        bytes.extend_from_slice(b"\x01\x02");
        let s = decode_subscription(Bytes::from(bytes)).expect("decodes");
        assert_eq!(s.topics, vec!["t".to_string()]);
    }

    #[test]
    fn assignment_round_trips_and_empty_is_empty() {
        let a = Assignment {
            partitions: vec![TopicPartition::new("t", 3)],
            user_data: None,
        };
        assert_eq!(
            decode_assignment(encode_assignment(&a)).expect("decodes"),
            a
        );
        assert_eq!(
            decode_assignment(Bytes::new()).expect("decodes"),
            Assignment::default()
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b"\x00"[..], b"\x00\x01\x7f\xff\xff\xff", b"\xff\xff\x00"] {
            assert!(decode_subscription(Bytes::copy_from_slice(bytes)).is_err());
            assert!(decode_assignment(Bytes::copy_from_slice(bytes)).is_err());
        }
    }
}

#[cfg(test)]
mod wire_round_trip {
    use super::*;

    /// Every version of both embedded schemas survives encode → decode.
    #[test]
    fn every_version_round_trips() {
        for v in 0..=CONSUMER_PROTOCOL_VERSION {
            let s = ConsumerProtocolSubscription::example(v);
            let mut buf = BytesMut::new();
            s.encode(&mut buf, v).expect("encodes");
            let back = ConsumerProtocolSubscription::decode(&mut ReadBuf::new(buf.freeze()), v)
                .expect("decodes");
            assert_eq!(back, s, "subscription v{v}");
            let a = ConsumerProtocolAssignment::example(v);
            let mut buf = BytesMut::new();
            a.encode(&mut buf, v).expect("encodes");
            let back = ConsumerProtocolAssignment::decode(&mut ReadBuf::new(buf.freeze()), v)
                .expect("decodes");
            assert_eq!(back, a, "assignment v{v}");
        }
    }
}
