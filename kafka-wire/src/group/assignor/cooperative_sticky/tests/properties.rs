//! Property-style tests of the `cooperative-sticky` assignor: stickiness when members join,
//! random groups with conflicting and bogus ownership, odd input, Java's member order.

use std::collections::{BTreeMap, BTreeSet};

use super::super::super::common::testing::{all_subscribed, member, topics, Rng};
use super::*;

/// Adding a member to a balanced group with identical subscriptions moves only as many
/// partitions as balance needs, none of them in the first (cooperative) rebalance, and the
/// follow-up rebalance hands exactly those to their new owners.
#[test]
fn adding_a_member_moves_only_what_balance_needs() {
    let mut rng = Rng(3);
    for members_before in 1..=8usize {
        for round in 0..12 {
            let n_topics = 1 + rng.below(3) as usize;
            let names: Vec<String> = (0..n_topics).map(|t| format!("t{t}")).collect();
            let per_topic: BTreeMap<String, i32> = names
                .iter()
                .map(|t| (t.clone(), rng.below(14) as i32))
                .collect();
            let t: Vec<&str> = names.iter().map(String::as_str).collect();
            let ids: Vec<String> = (0..=members_before)
                .map(|i| format!("c{}-{round}", rng.below(100) * 10 + i as u64))
                .collect();
            let before: Vec<_> = ids[..members_before]
                .iter()
                .map(|id| member(id, &t))
                .collect();
            let out = run(&per_topic, &before);
            assert_eq!(
                out.values().map(Vec::len).sum::<usize>(),
                all_subscribed(&per_topic, &before).len()
            );

            let mut members: Vec<_> = before
                .iter()
                .map(|m| rejoin(m, &out[&m.member_id], 1))
                .collect();
            members.push(owning(&ids[members_before], &t, "", -1));
            let first = run(&per_topic, &members);
            for m in &members {
                let owned: BTreeSet<_> = m.subscription.owned_partitions.iter().collect();
                assert!(
                    first[&m.member_id].iter().all(|tp| owned.contains(tp)),
                    "nothing is handed over in round one"
                );
            }
            let (_, revoked) = movements(&members, &first);

            // The fewest moves that balance the group: the largest owners keep `max`, the rest `min`.
            let total: usize = out.values().map(Vec::len).sum();
            let n = members.len();
            let (min, extra) = (total / n, total % n);
            let mut owned_counts: Vec<usize> = members
                .iter()
                .map(|m| m.subscription.owned_partitions.len())
                .collect();
            owned_counts.sort_unstable_by(|a, b| b.cmp(a));
            let needed: usize = owned_counts
                .iter()
                .enumerate()
                .map(|(i, c)| c.saturating_sub(min + usize::from(i < extra)))
                .sum();
            assert_eq!(revoked.len(), needed, "moves beyond what balance needs");

            let second_members: Vec<_> = members
                .iter()
                .map(|m| rejoin(m, &first[&m.member_id], 2))
                .collect();
            let second = run(&per_topic, &second_members);
            let (added, revoked_again) = movements(&second_members, &second);
            assert!(
                revoked_again.is_empty(),
                "the follow-up rebalance revokes nothing"
            );
            assert_eq!(
                added, revoked,
                "the follow-up rebalance hands over exactly the revoked partitions"
            );
            let counts: Vec<usize> = second.values().map(Vec::len).collect();
            let (lo, hi) = (
                counts.iter().min().copied().unwrap_or(0),
                counts.iter().max().copied().unwrap_or(0),
            );
            assert!(hi - lo <= 1, "unbalanced: {counts:?}");
        }
    }
}

/// With different subscriptions: a member joining for one of two topics takes only what it
/// needs, and the others keep the rest.
#[test]
fn adding_a_member_with_a_narrower_subscription_is_sticky() {
    let per_topic = topics(&[("t1", 3), ("t2", 3)]);
    let t = ["t1", "t2"];
    let out = run(&per_topic, &[member("a", &t), member("b", &t)]);
    let members = [
        rejoin(&member("a", &t), &out["a"], 1),
        rejoin(&member("b", &t), &out["b"], 1),
        owning("c", &["t1"], "", -1),
    ];
    let first = run(&per_topic, &members);
    let (_, revoked) = movements(&members, &first);
    assert_eq!(revoked.len(), 2);
    assert!(revoked.iter().all(|tp| tp.topic == "t1"));
    let (_, last) = settle(&per_topic, &members, first, 2);
    assert_eq!(last["c"].iter().cloned().collect::<BTreeSet<_>>(), revoked);
    assert!(last.values().all(|p| p.len() == 2));
}

/// Random groups, random subscriptions, random (partly conflicting and bogus) ownership:
/// always valid, cooperative-safe, and balanced once the follow-up rebalances are done; with no
/// ownership every partition is assigned at once.
#[test]
fn random_groups_are_valid_and_settle_balanced() {
    let mut rng = Rng(99);
    for round in 0..250 {
        let n_topics = 1 + rng.below(4) as usize;
        let names: Vec<String> = (0..n_topics).map(|t| format!("t{t}")).collect();
        let per_topic: BTreeMap<String, i32> = names
            .iter()
            .map(|t| (t.clone(), rng.below(12) as i32))
            .collect();
        let identical = round % 2 == 0;
        let members: Vec<MemberSubscription> = (0..1 + rng.below(8))
            .map(|i| {
                let t: Vec<&str> = names
                    .iter()
                    .filter(|_| identical || rng.below(3) > 0)
                    .map(String::as_str)
                    .collect();
                let mut m = member(&format!("m{}", rng.below(1000) * 10 + i), &t);
                if round % 4 >= 2 {
                    for _ in 0..rng.below(6) {
                        let topic = format!("t{}", rng.below(n_topics as u64 + 1));
                        let partition = rng.below(14) as i32 - 1;
                        m.subscription
                            .owned_partitions
                            .push(TopicPartition::new(topic, partition));
                    }
                    m.subscription.generation_id = rng.below(4) as i32 - 1;
                }
                m
            })
            .collect();
        let out = run(&per_topic, &members);
        if round % 4 < 2 {
            let assigned: BTreeSet<_> = out.values().flatten().cloned().collect();
            assert_eq!(
                assigned,
                all_subscribed(&per_topic, &members),
                "fresh group: all assigned"
            );
        }
        let (members, last) = settle(&per_topic, &members, out, 5);
        let assigned: BTreeSet<_> = last.values().flatten().cloned().collect();
        assert_eq!(
            assigned,
            all_subscribed(&per_topic, &members),
            "settled: all assigned"
        );
        // Deterministic: the same input gives the same output.
        let rejoined: Vec<_> = members
            .iter()
            .map(|m| rejoin(m, &last[&m.member_id], 6))
            .collect();
        assert_eq!(run(&per_topic, &rejoined), run(&per_topic, &rejoined));
    }
}

#[test]
fn odd_input_is_handled_without_panicking() {
    let per_topic = topics(&[("a", 2), ("b", 0), ("c", -4)]);
    let mut m = owning("m1", &["a", "b", "c", "a"], "a-0, a-0, a-7, b-0, zz-1", 1);
    m.subscription
        .owned_partitions
        .push(TopicPartition::new("a", -1));
    m.subscription
        .owned_partitions
        .push(TopicPartition::new("a", i32::MAX));
    let out = run(&per_topic, &[m.clone(), owning("m2", &["a"], "a-0", 1)]);
    let assigned: usize = out.values().map(Vec::len).sum();
    assert!(assigned <= 2);
    assert!(CooperativeStickyAssignor
        .assign(&per_topic, &[])
        .expect("assigns")
        .is_empty());
    assert!(CooperativeStickyAssignor
        .assign(&per_topic, &[m.clone(), m])
        .is_err());
}

/// Java's `HashMap` walks `consumer1..4` backwards (their hashes fall in buckets 12, 11, 10, 9
/// of 16) but `c0`, `c1` forwards; the quota phase follows that order.
#[test]
fn members_are_visited_in_java_hash_map_order() {
    let per_topic = topics(&[("t", 1)]);
    let ids = ["consumer1", "consumer2", "consumer3", "consumer4"];
    let members: Vec<_> = ids.iter().map(|id| member(id, &["t"])).collect();
    assert_eq!(
        Group::new(&per_topic, &members).java_order,
        vec![3, 2, 1, 0]
    );
    let members = [member("c1", &["t"]), member("c0", &["t"])];
    assert_eq!(Group::new(&per_topic, &members).java_order, vec![0, 1]);
    // 13 members or more: the table has 32 buckets.
    let members: Vec<_> = (0..13)
        .map(|i| member(&format!("m{i:02}"), &["t"]))
        .collect();
    let order = Group::new(&per_topic, &members).java_order;
    assert_eq!(order.len(), 13);
    assert_eq!(order.iter().collect::<BTreeSet<_>>().len(), 13);
}
