//! Tests of the `cooperative-sticky` assignor. Vectors come from Java's
//! `AbstractStickyAssignorTest` and `CooperativeStickyAssignorTest` (non-rack-aware cases).

use std::collections::{BTreeMap, BTreeSet};

use super::super::common::testing::{check_valid, lists, member, topics, tps};
use super::*;

mod properties;

type Lists = BTreeMap<String, Vec<TopicPartition>>;

/// A member in Java's `buildSubscriptionV2Above` form: owned partitions and a generation.
fn owning(id: &str, topics: &[&str], owned: &str, generation: i32) -> MemberSubscription {
    let mut m = member(id, topics);
    m.subscription.owned_partitions = tps(owned);
    m.subscription.generation_id = generation;
    m.subscription.user_data = CooperativeStickyAssignor.subscription_user_data(&[], &[], -1);
    m
}

/// The same member after it received `assignment` in `generation`.
fn rejoin(
    m: &MemberSubscription,
    assignment: &[TopicPartition],
    generation: i32,
) -> MemberSubscription {
    let mut m = m.clone();
    m.subscription.owned_partitions = assignment.to_vec();
    m.subscription.generation_id = generation;
    m
}

/// Run the assignor and check validity, and that nothing is handed to a new owner in the
/// rebalance where another member still has to revoke it.
fn run(per_topic: &BTreeMap<String, i32>, members: &[MemberSubscription]) -> Lists {
    let result = CooperativeStickyAssignor
        .assign(per_topic, members)
        .expect("assigns");
    check_valid(per_topic, members, &result);
    let out = lists(&result);
    let (added, revoked) = movements(members, &out);
    let both: Vec<_> = added.intersection(&revoked).collect();
    assert!(
        both.is_empty(),
        "given while still owned elsewhere: {both:?}"
    );
    out
}

/// Partitions members gain, and partitions members lose, relative to their subscriptions.
fn movements(
    members: &[MemberSubscription],
    out: &Lists,
) -> (BTreeSet<TopicPartition>, BTreeSet<TopicPartition>) {
    let (mut added, mut revoked) = (BTreeSet::new(), BTreeSet::new());
    for m in members {
        let owned: BTreeSet<_> = m.subscription.owned_partitions.iter().cloned().collect();
        let assigned: BTreeSet<_> = out[&m.member_id].iter().cloned().collect();
        added.extend(assigned.difference(&owned).cloned());
        revoked.extend(owned.difference(&assigned).cloned());
    }
    (added, revoked)
}

/// The full target assignment and the partitions held back from their receivers.
fn planned(
    per_topic: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
) -> (Lists, BTreeMap<TopicPartition, String>) {
    let plan = plan(per_topic, members).expect("plans");
    let full = lists(&plan.group.assignments(plan.lists.clone()));
    let mut held_back = BTreeMap::new();
    for (member, partitions) in &plan.transferring {
        for &(t, p) in partitions {
            let tp = TopicPartition::new(plan.group.topics[t].0, p);
            held_back.insert(tp, plan.group.members[*member].id.to_owned());
        }
    }
    (full, held_back)
}

/// Java's cooperative `verifyValidityAndBalance`: rejoin with the new assignment until nothing
/// is revoked (at most four follow-up rebalances), then check balance. Returns the final
/// members and assignment.
fn settle(
    per_topic: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
    first: Lists,
    generation: i32,
) -> (Vec<MemberSubscription>, Lists) {
    let mut members = members.to_vec();
    let mut out = first;
    for rebalance in 0.. {
        let (_, revoked) = movements(&members, &out);
        if revoked.is_empty() {
            break;
        }
        assert!(
            rebalance < 4,
            "still revoking after {rebalance} follow-up rebalances"
        );
        members = members
            .iter()
            .map(|m| rejoin(m, &out[&m.member_id], generation))
            .collect();
        out = run(per_topic, &members);
    }
    check_balanced(&members, &out);
    (members, out)
}

/// Java's balance criterion: no partition could move to a member holding two fewer.
fn check_balanced(members: &[MemberSubscription], out: &Lists) {
    for a in members {
        for b in members {
            let (held_a, held_b) = (&out[&a.member_id], &out[&b.member_id]);
            if held_a.len() > held_b.len() + 1 {
                let movable = held_a
                    .iter()
                    .find(|tp| b.subscription.topics.contains(&tp.topic));
                assert!(
                    movable.is_none(),
                    "{movable:?} could move from {} ({}) to {} ({})",
                    a.member_id,
                    held_a.len(),
                    b.member_id,
                    held_b.len()
                );
            }
        }
    }
}

fn expect(out: &Lists, expected: &[(&str, &str)]) {
    for (member, partitions) in expected {
        assert_eq!(out[*member], tps(partitions), "assignment of {member}");
    }
}

#[test]
fn name_protocols_and_user_data() {
    let a = CooperativeStickyAssignor;
    assert_eq!(a.name(), "cooperative-sticky");
    assert!(a
        .supported_protocols()
        .contains(&RebalanceProtocol::Cooperative));
    assert!(a.supported_protocols().contains(&RebalanceProtocol::Eager));
    // Java: testEncodeAndDecodeGeneration, testDecodeGeneration.
    let data = a.subscription_user_data(&[], &[], 10);
    assert_eq!(data.as_deref(), Some(&[0, 0, 0, 10][..]));
    assert_eq!(user_data_generation(data.as_ref()), Some(10));
    let data = a.subscription_user_data(&[], &[], -1);
    assert_eq!(data.as_deref(), Some(&[0xff, 0xff, 0xff, 0xff][..]));
    assert_eq!(user_data_generation(data.as_ref()), Some(-1));
    assert_eq!(user_data_generation(None), None);
}

#[test]
fn garbage_user_data_reads_as_no_generation() {
    for (bytes, expected) in [
        (&b""[..], -1),
        (b"\x07", -1),
        (b"\x00\x00\x07", -1),
        (b"\x00\x00\x00\x07", 7),
        (b"\x00\x00\x00\x07trailing", 7),
    ] {
        let mut s = Subscription {
            user_data: Some(Bytes::copy_from_slice(bytes)),
            generation_id: -1,
            ..Default::default()
        };
        assert_eq!(member_generation(&s), expected, "{bytes:?}");
        // The subscription's own generation (version 2 and later) wins over the user data.
        s.generation_id = 3;
        assert_eq!(member_generation(&s), 3);
    }
}

/// Java: testAssignorWithOldVersionSubscriptions, testMemberDataWithInconsistentData:
/// version-1 subscriptions carry the generation in the user data only.
#[test]
fn old_subscriptions_take_the_generation_from_user_data() {
    let per_topic = topics(&[("topic1", 3)]);
    let v1 = |id: &str, owned: &str| {
        let mut m = owning(id, &["topic1"], owned, -1);
        m.subscription.user_data = CooperativeStickyAssignor.subscription_user_data(&[], &[], 1);
        m
    };
    let members = [
        v1("consumer1", "topic1-0"),
        v1("consumer2", "topic1-1"),
        owning("consumer3", &["topic1"], "", 1),
    ];
    let out = run(&per_topic, &members);
    expect(
        &out,
        &[
            ("consumer1", "topic1-0"),
            ("consumer2", "topic1-1"),
            ("consumer3", "topic1-2"),
        ],
    );

    // A version-1 member of generation 5 (user data) beats a version-2 member of generation 4.
    let mut old = v1("old", "topic1-0, topic1-1");
    old.subscription.user_data = CooperativeStickyAssignor.subscription_user_data(&[], &[], 5);
    let newer = owning("new", &["topic1"], "topic1-0", 4);
    let (full, _) = planned(&per_topic, &[old.clone(), newer.clone()]);
    assert!(full["old"].contains(&TopicPartition::new("topic1", 0)));
    // Garbage user data counts as generation -1: the version-2 member wins.
    old.subscription.user_data = Some(Bytes::from_static(b"\x01"));
    let (full, _) = planned(&per_topic, &[old, newer]);
    assert!(full["new"].contains(&TopicPartition::new("topic1", 0)));
}

/// Java: testOneConsumerNoTopic, testOneConsumerNonexistentTopic, testOneConsumerOneTopic,
/// testOnlyAssignsPartitionsFromSubscribedTopics, testOneConsumerMultipleTopics.
#[test]
fn single_member_vectors() {
    for subscribed in [&[][..], &["topic"][..]] {
        let out = run(&topics(&[("topic", 0)]), &[member("consumer", subscribed)]);
        assert!(out["consumer"].is_empty());
    }
    let out = run(&topics(&[("topic", 3)]), &[member("consumer", &["topic"])]);
    expect(&out, &[("consumer", "topic-0, topic-1, topic-2")]);
    let owns_other = owning(
        "consumer",
        &["topic"],
        "topic-0, topic-1, other-0, other-1",
        1,
    );
    let out = run(&topics(&[("topic", 2)]), &[owns_other]);
    expect(&out, &[("consumer", "topic-0, topic-1")]);
    let both = member("consumer", &["topic1", "topic2"]);
    let out = run(&topics(&[("topic1", 1), ("topic2", 2)]), &[both]);
    expect(&out, &[("consumer", "topic1-0, topic2-0, topic2-1")]);
}

/// Java: testTwoConsumersOneTopicTwoPartitions, testMultipleConsumersMixedTopicSubscriptions,
/// testTwoConsumersTwoTopicsSixPartitions.
#[test]
fn fresh_group_vectors() {
    let two = [
        member("consumer1", &["topic"]),
        member("consumer2", &["topic"]),
    ];
    let out = run(&topics(&[("topic", 2)]), &two);
    expect(&out, &[("consumer1", "topic-0"), ("consumer2", "topic-1")]);

    let mixed = [
        member("consumer1", &["topic1"]),
        member("consumer2", &["topic1", "topic2"]),
        member("consumer3", &["topic1"]),
    ];
    let per_topic = topics(&[("topic1", 3), ("topic2", 2)]);
    let out = run(&per_topic, &mixed);
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic1-2"),
            ("consumer2", "topic2-0, topic2-1"),
            ("consumer3", "topic1-1"),
        ],
    );
    check_balanced(&mixed, &out);

    let t = ["topic1", "topic2"];
    let out = run(
        &topics(&[("topic1", 3), ("topic2", 3)]),
        &[member("consumer1", &t), member("consumer2", &t)],
    );
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic1-2, topic2-1"),
            ("consumer2", "topic1-1, topic2-0, topic2-2"),
        ],
    );
}

/// Java: testConsumerOwningMinQuotaExpectedMaxQuota, testAllConsumersAreUnderMinQuota,
/// testAllConsumersReachExpectedQuotaAndAreConsideredFilled.
#[test]
fn quota_vectors_without_revocation() {
    let t = ["topic1", "topic2"];
    let per_topic = topics(&[("topic1", 2), ("topic2", 3)]);
    let members = [
        owning("consumer1", &t, "topic1-0, topic2-1", 1),
        owning("consumer2", &t, "topic1-1, topic2-2", 1),
    ];
    let out = run(&per_topic, &members);
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic2-0, topic2-1"),
            ("consumer2", "topic1-1, topic2-2"),
        ],
    );

    let members = [
        owning("consumer1", &t, "topic1-0", 1),
        owning("consumer2", &t, "topic1-1", 1),
        owning("consumer3", &t, "", 1),
    ];
    let out = run(&per_topic, &members);
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic2-1"),
            ("consumer2", "topic1-1, topic2-2"),
            ("consumer3", "topic2-0"),
        ],
    );

    let members = [
        owning("consumer1", &["topic"], "topic-0, topic-1", 1),
        owning("consumer2", &["topic"], "topic-2", 1),
        owning("consumer3", &["topic"], "", 1),
    ];
    let out = run(&topics(&[("topic", 4)]), &members);
    expect(
        &out,
        &[
            ("consumer1", "topic-0, topic-1"),
            ("consumer2", "topic-2"),
            ("consumer3", "topic-3"),
        ],
    );
}

/// Java: testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers.
#[test]
fn partition_moving_to_a_new_owner_waits_for_the_follow_up_rebalance() {
    let t = ["topic1", "topic2"];
    let per_topic = topics(&[("topic1", 2), ("topic2", 2)]);
    let members = [
        owning("consumer1", &t, "topic1-0, topic2-0", 1),
        owning("consumer2", &t, "topic1-1, topic2-1", 1),
        owning("consumer3", &t, "", 1),
    ];
    let (_, held_back) = planned(&per_topic, &members);
    assert_eq!(
        held_back,
        BTreeMap::from([(TopicPartition::new("topic2", 0), "consumer3".to_owned())])
    );
    let first = run(&per_topic, &members);
    expect(
        &first,
        &[
            ("consumer1", "topic1-0"),
            ("consumer2", "topic1-1, topic2-1"),
            ("consumer3", ""),
        ],
    );
    let (_, last) = settle(&per_topic, &members, first, 1);
    expect(
        &last,
        &[
            ("consumer1", "topic1-0"),
            ("consumer2", "topic1-1, topic2-1"),
            ("consumer3", "topic2-0"),
        ],
    );
}

/// Java: testAddRemoveConsumerOneTopic.
#[test]
fn add_then_remove_a_member_on_one_topic() {
    let per_topic = topics(&[("topic", 3)]);
    let c1 = member("consumer1", &["topic"]);
    let out = run(&per_topic, std::slice::from_ref(&c1));
    expect(&out, &[("consumer1", "topic-0, topic-1, topic-2")]);

    let members = [
        rejoin(&c1, &out["consumer1"], 1),
        owning("consumer2", &["topic"], "", 1),
    ];
    let (_, held_back) = planned(&per_topic, &members);
    assert_eq!(
        held_back,
        BTreeMap::from([(TopicPartition::new("topic", 2), "consumer2".to_owned())])
    );
    let first = run(&per_topic, &members);
    let (members, out) = settle(&per_topic, &members, first, 1);
    expect(
        &out,
        &[("consumer1", "topic-0, topic-1"), ("consumer2", "topic-2")],
    );

    let alone = [rejoin(&members[1], &out["consumer2"], 1)];
    let out = run(&per_topic, &alone);
    expect(&out, &[("consumer2", "topic-0, topic-1, topic-2")]);
}

/// Java: testAddRemoveTwoConsumersTwoTopics (expected transfers and final assignments).
#[test]
fn add_then_remove_two_members_on_two_topics() {
    let t = ["topic1", "topic2"];
    let per_topic = topics(&[("topic1", 3), ("topic2", 4)]);
    let out = run(
        &per_topic,
        &[member("consumer1", &t), member("consumer2", &t)],
    );
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic1-2, topic2-1, topic2-3"),
            ("consumer2", "topic1-1, topic2-0, topic2-2"),
        ],
    );

    let members = [
        owning("consumer1", &t, "topic1-0, topic1-2, topic2-1, topic2-3", 1),
        owning("consumer2", &t, "topic1-1, topic2-0, topic2-2", 1),
        owning("consumer3", &t, "", 1),
        owning("consumer4", &t, "", 1),
    ];
    let (_, held_back) = planned(&per_topic, &members);
    let expected_held_back: BTreeMap<_, _> = [
        ("topic1-2", "consumer3"),
        ("topic2-3", "consumer3"),
        ("topic2-2", "consumer4"),
    ]
    .iter()
    .map(|(tp, m)| (tps(tp).remove(0), (*m).to_owned()))
    .collect();
    assert_eq!(held_back, expected_held_back);
    let first = run(&per_topic, &members);
    let (members, out) = settle(&per_topic, &members, first, 1);
    expect(
        &out,
        &[
            ("consumer1", "topic1-0, topic2-1"),
            ("consumer2", "topic1-1, topic2-0"),
            ("consumer3", "topic1-2, topic2-3"),
            ("consumer4", "topic2-2"),
        ],
    );

    let remaining = [
        rejoin(&members[2], &out["consumer3"], 1),
        rejoin(&members[3], &out["consumer4"], 1),
    ];
    let out = run(&per_topic, &remaining);
    expect(
        &out,
        &[
            ("consumer3", "topic1-0, topic1-2, topic2-1, topic2-3"),
            ("consumer4", "topic1-1, topic2-0, topic2-2"),
        ],
    );
}

/// Java: testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration and
/// ...WithNoGeneration, ...WithMultipleGeneration.
#[test]
fn stale_generations_lose_their_claims() {
    let t = ["topic", "topic2"];
    let per_topic = topics(&[("topic", 3), ("topic2", 3)]);
    for stale in [9, -1] {
        let members = [
            owning("consumer1", &t, "topic-0, topic-2, topic2-1", 10),
            owning("consumer2", &t, "topic-0, topic-2, topic2-1", stale),
        ];
        let (_, held_back) = planned(&per_topic, &members);
        assert!(held_back.is_empty());
        let out = run(&per_topic, &members);
        expect(
            &out,
            &[
                ("consumer1", "topic-0, topic-2, topic2-1"),
                ("consumer2", "topic-1, topic2-0, topic2-2"),
            ],
        );
    }
    let members = [
        owning("consumer1", &t, "topic-0, topic2-1, topic-1", 10),
        owning("consumer2", &t, "topic-0, topic2-1, topic2-2", 8),
    ];
    let out = run(&per_topic, &members);
    expect(
        &out,
        &[
            ("consumer1", "topic-0, topic-1, topic2-1"),
            ("consumer2", "topic-2, topic2-0, topic2-2"),
        ],
    );
}

/// Java: testEnsurePartitionsAssignedToHighestGeneration, testNoReassignmentOnCurrentMembers.
#[test]
fn highest_generation_keeps_the_partition() {
    let t = ["topic", "topic2", "topic3"];
    let per_topic = topics(&[("topic", 3), ("topic2", 3), ("topic3", 3)]);
    let members = [
        owning("consumer1", &t, "topic-0, topic2-0, topic3-0", 10),
        owning("consumer2", &t, "topic-1, topic2-1, topic3-1", 9),
        owning("consumer3", &t, "topic2-1, topic3-0, topic3-2", 8),
    ];
    let out = run(&per_topic, &members);
    expect(
        &out,
        &[
            ("consumer1", "topic-0, topic2-0, topic3-0"),
            ("consumer2", "topic-1, topic2-1, topic3-1"),
            ("consumer3", "topic-2, topic2-2, topic3-2"),
        ],
    );

    let t = ["topic", "topic2", "topic3", "topic1"];
    let per_topic = topics(&[("topic", 3), ("topic1", 3), ("topic2", 3), ("topic3", 3)]);
    let members = [
        owning("consumer1", &t, "", -1),
        owning("consumer2", &t, "topic-0, topic2-0, topic1-0", 9),
        owning("consumer3", &t, "topic3-2, topic2-2, topic1-1", 8),
        owning("consumer4", &t, "topic3-1, topic-1, topic-2", 7),
    ];
    let (_, held_back) = planned(&per_topic, &members);
    assert!(held_back.is_empty());
    let out = run(&per_topic, &members);
    expect(&out, &[("consumer1", "topic1-2, topic2-1, topic3-0")]);
    check_balanced(&members, &out);
}

/// Java: testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration
/// and CooperativeStickyAssignorTest's testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimed
/// ByMultipleConsumersInSameGeneration{WithEqual,WithUnequal}PartitionsPerConsumer.
#[test]
fn partition_claimed_twice_in_the_same_generation_goes_to_nobody_at_first() {
    let members = [
        owning("consumer1", &["topic"], "topic-0, topic-1", 1),
        owning("consumer2", &["topic"], "topic-0, topic-2", 1),
        owning("consumer3", &["topic"], "", 1),
    ];
    let per_topic = topics(&[("topic", 3)]);
    let (_, held_back) = planned(&per_topic, &members);
    assert_eq!(
        held_back,
        BTreeMap::from([(TopicPartition::new("topic", 0), "consumer3".to_owned())])
    );
    let first = run(&per_topic, &members);
    expect(
        &first,
        &[
            ("consumer1", "topic-1"),
            ("consumer2", "topic-2"),
            ("consumer3", ""),
        ],
    );
    let (_, last) = settle(&per_topic, &members, first, 1);
    expect(
        &last,
        &[
            ("consumer1", "topic-1"),
            ("consumer2", "topic-2"),
            ("consumer3", "topic-0"),
        ],
    );

    let per_topic = topics(&[("topic", 4)]);
    let first = run(&per_topic, &members);
    expect(
        &first,
        &[
            ("consumer1", "topic-1, topic-3"),
            ("consumer2", "topic-2"),
            ("consumer3", ""),
        ],
    );
    settle(&per_topic, &members, first, 1);
}

/// Java: testSubscriptionNotEqualAndAssignSamePartitionWith3Generation (general algorithm).
#[test]
fn three_generations_with_different_subscriptions() {
    let per_topic = topics(&[("topic", 6), ("topic1", 1)]);
    for generations in [
        [1, 2, 3],
        [1, 3, 2],
        [2, 1, 3],
        [2, 3, 1],
        [3, 1, 2],
        [3, 2, 1],
    ] {
        let members = [
            owning("consumer1", &["topic"], "topic-0, topic-2", generations[0]),
            owning(
                "consumer2",
                &["topic"],
                "topic-1, topic-2, topic-3",
                generations[1],
            ),
            owning(
                "consumer3",
                &["topic"],
                "topic-2, topic-4, topic-5",
                generations[2],
            ),
            owning("consumer4", &["topic1"], "topic1-0", 2),
        ];
        let out = run(&per_topic, &members);
        for (m, partitions) in &out {
            assert!((1..=2).contains(&partitions.len()), "{m}: {partitions:?}");
        }
        // The generation-3 member keeps its claim on topic-2 (balancing may still move it).
        let group = Group::new(&per_topic, &members);
        for (m, generation) in group.members.iter().zip(generations) {
            assert_eq!(m.owned.contains(&(0, 2)), generation == 3, "{}", m.id);
        }
        settle(&per_topic, &members, out, 4);
    }
}

/// Java: testPoorRoundRobinAssignmentScenario, testMoveExistingAssignments, testStickiness,
/// testReassignmentAfterOneConsumerLeaves.
#[test]
fn general_algorithm_scenarios() {
    let per_topic: BTreeMap<String, i32> =
        (1..=5).map(|i| (format!("topic{i}"), i % 2 + 1)).collect();
    let all = ["topic1", "topic2", "topic3", "topic4", "topic5"];
    let odd = ["topic1", "topic3", "topic5"];
    let members = [
        member("consumer1", &all),
        member("consumer2", &odd),
        member("consumer3", &odd),
        member("consumer4", &all),
    ];
    let out = run(&per_topic, &members);
    check_balanced(&members, &out);
    assert!(out.values().all(|p| p.len() == 2));

    let per_topic: BTreeMap<String, i32> = (1..=6).map(|i| (format!("topic{i}"), 1)).collect();
    let members = [
        owning("consumer1", &["topic1", "topic2"], "topic1-0", 1),
        owning(
            "consumer2",
            &["topic1", "topic2", "topic3", "topic4"],
            "topic2-0, topic3-0",
            1,
        ),
        owning(
            "consumer3",
            &["topic2", "topic3", "topic4", "topic5", "topic6"],
            "topic4-0, topic5-0, topic6-0",
            1,
        ),
    ];
    let first = run(&per_topic, &members);
    settle(&per_topic, &members, first, 1);

    let per_topic = topics(&[("topic1", 3)]);
    let members: Vec<_> = (1..=4)
        .map(|i| member(&format!("consumer{i}"), &["topic1"]))
        .collect();
    let out = run(&per_topic, &members);
    let rejoined: Vec<_> = members[1..]
        .iter()
        .map(|m| rejoin(m, &out[&m.member_id], 1))
        .collect();
    let again = run(&per_topic, &rejoined);
    for m in &rejoined {
        assert_eq!(again[&m.member_id].len(), 1);
        assert!(out[&m.member_id]
            .iter()
            .all(|tp| again[&m.member_id].contains(tp)));
    }

    let names: Vec<String> = (1..20).map(|i| format!("topic{i:02}")).collect();
    let per_topic: BTreeMap<String, i32> =
        names.iter().zip(1..).map(|(t, n)| (t.clone(), n)).collect();
    let members: Vec<_> = (1..20)
        .map(|i| {
            let subscribed: Vec<&str> = names[..i].iter().map(String::as_str).collect();
            member(&format!("consumer{i:02}"), &subscribed)
        })
        .collect();
    let out = run(&per_topic, &members);
    let (members, out) = settle(&per_topic, &members, out, 1);
    let rejoined: Vec<_> = members
        .iter()
        .filter(|m| m.member_id != "consumer10")
        .map(|m| rejoin(m, &out[&m.member_id], 2))
        .collect();
    let first = run(&per_topic, &rejoined);
    settle(&per_topic, &rejoined, first, 2);
}
