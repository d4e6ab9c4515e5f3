//! `merge.repartition.topics` (`topology.optimization`): the repartition topics that follow
//! one key-changing operation become one, placed right after it, as Kafka's
//! `InternalStreamsBuilder.mergeRepartitionTopics` rewrites its graph.
//!
//! A pure rewrite of the plan's graph (node indexes and parent lists, in creation order), so
//! it is tested without building anything:
//! - a repartition an aggregation, `to_table` or (later) a join inserts is *mergeable*
//!   (`repartition()`'s is not); it belongs to the nearest key-changing ancestor (`map`,
//!   `flat_map`, `select_key`, `group_by`'s key selection) unless a value-changing node
//!   (`map_values`, `flat_map_values`) comes first;
//! - a `merge` whose every such repartition lies below it takes the key changers above it;
//! - for each key changer (or merge) with mergeable repartitions, in creation order, one new
//!   repartition node `M` is added as its child; each of its children on the way to a
//!   merged repartition moves below `M`; each merged repartition is removed and its
//!   children read its parent instead.
//!
//! Kafka fails the build ("Found a null keyChangingChild node") when two merged
//! repartitions lie below one node that is not the key changer itself (a `filter` shared
//! by two groupings); here that node has already moved below `M`, and the second
//! repartition is merged through it too.

/// What the rewrite needs to know of a node (Kafka's `GraphNode` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Role {
    /// Any other node.
    #[default]
    Plain,
    /// Changes the key (`isKeyChangingOperation`).
    KeyChanging,
    /// Changes the value only (`isValueChangingOperation`).
    ValueChanging,
    /// A `merge` (`isMergeNode`).
    Merge,
    /// A repartition the rewrite may merge (`OptimizableRepartitionNode`).
    Repartition,
}

/// One merge: the node the new repartition follows, and the repartitions it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MergeGroup {
    pub key_changer: usize,
    pub repartitions: Vec<usize>,
}

/// The graph after the rewrite. Node `n + j` is the new repartition of `groups[j]`.
#[derive(Debug)]
pub(crate) struct Rewrite {
    pub groups: Vec<MergeGroup>,
    /// Every node's parents afterwards (the new nodes' too).
    pub parents: Vec<Vec<usize>>,
    /// The repartitions merged away.
    pub removed: Vec<bool>,
}

/// The graph, children and parents in insertion order (Kafka's linked sets).
struct Graph {
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl Graph {
    fn add_child(&mut self, parent: usize, child: usize) {
        if !self.children[parent].contains(&child) {
            self.children[parent].push(child);
        }
        if !self.parents[child].contains(&parent) {
            self.parents[child].push(parent);
        }
    }

    fn remove_child(&mut self, parent: usize, child: usize) {
        self.children[parent].retain(|&c| c != child);
        self.parents[child].retain(|&p| p != parent);
    }

    fn add_node(&mut self) -> usize {
        self.parents.push(Vec::new());
        self.children.push(Vec::new());
        self.parents.len() - 1
    }

    /// `start` if it matches, else the first matching parent, else what the search from
    /// the *last* parent found (Kafka's `findParentNodeMatching`, quirk included).
    fn find(&self, start: usize, matches: &dyn Fn(usize) -> bool) -> Option<usize> {
        if matches(start) {
            return Some(start);
        }
        let mut found = None;
        for &p in &self.parents[start] {
            if matches(p) {
                return Some(p);
            }
            found = self.find(p, matches);
        }
        found
    }
}

/// Merge the repartitions of `roles` (node `i` has parents `parents[i]`, all below `i`).
pub(crate) fn merge_repartition_topics(roles: &[Role], parents: &[Vec<usize>]) -> Rewrite {
    let n = roles.len();
    let mut g = Graph {
        parents: vec![Vec::new(); n],
        children: vec![Vec::new(); n],
    };
    for (child, ps) in parents.iter().enumerate() {
        for &p in ps {
            g.add_child(p, child);
        }
    }

    // Kafka's keyChangingOperationsToOptimizableRepartitionNodes, filled in creation order.
    let mut groups: Vec<MergeGroup> = Vec::new();
    let mut merges = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        match role {
            Role::KeyChanging => groups.push(MergeGroup {
                key_changer: i,
                repartitions: Vec::new(),
            }),
            Role::Repartition => {
                let changing = g.find(i, &|x| {
                    matches!(roles[x], Role::KeyChanging | Role::ValueChanging)
                });
                if let Some(kc) = changing.filter(|&x| roles[x] == Role::KeyChanging) {
                    if let Some(group) = groups.iter_mut().find(|e| e.key_changer == kc) {
                        group.repartitions.push(i);
                    }
                }
            }
            Role::Merge => merges.push(i),
            _ => {}
        }
    }

    // A merge node whose key changers' repartitions all lie below it takes their place.
    let mut taken = Vec::new();
    for &m in &merges {
        let mut repartitions: Vec<usize> = Vec::new();
        for group in &groups {
            let all_below = group
                .repartitions
                .iter()
                .all(|&r| g.find(r, &|x| g.parents[x].contains(&m)).is_some());
            let above = g
                .find(m, &|x| g.parents[x].contains(&group.key_changer))
                .is_some();
            if all_below && above {
                for &r in &group.repartitions {
                    if !repartitions.contains(&r) {
                        repartitions.push(r);
                    }
                }
                taken.push(group.key_changer);
            }
        }
        groups.push(MergeGroup {
            key_changer: m,
            repartitions,
        });
    }
    groups.retain(|e| !taken.contains(&e.key_changer) && !e.repartitions.is_empty());

    let mut removed = vec![false; n];
    for group in &groups {
        let kc = group.key_changer;
        let merged = g.add_node();
        for &r in &group.repartitions {
            // The node below `kc` on the way to `r` (Kafka looks for `kc` only; after an
            // earlier repartition of this group moved that node below `merged`, it is found
            // through `merged`).
            let Some(child) = g.find(r, &|x| {
                g.parents[x].contains(&kc) || g.parents[x].contains(&merged)
            }) else {
                continue;
            };
            if g.parents[child].contains(&kc) {
                g.add_child(merged, child);
                g.remove_child(kc, child);
            }
            let r_children = g.children[r].clone();
            let r_parents = g.parents[r].clone();
            for &c in &r_children {
                for &p in &r_parents {
                    g.add_child(p, c);
                }
            }
            for &p in &r_parents {
                g.remove_child(p, r);
            }
            for &c in &r_children {
                g.remove_child(r, c);
            }
            removed[r] = true;
        }
        g.add_child(kc, merged);
    }
    Rewrite {
        groups,
        parents: g.parents,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::Role::*;
    use super::*;

    fn rewrite(nodes: &[(Role, &[usize])]) -> Rewrite {
        let roles: Vec<Role> = nodes.iter().map(|(r, _)| *r).collect();
        let parents: Vec<Vec<usize>> = nodes.iter().map(|(_, p)| p.to_vec()).collect();
        merge_repartition_topics(&roles, &parents)
    }

    #[test]
    fn two_aggregations_after_one_key_change_share_one_repartition() {
        // 0 source, 1 selectKey, 2 repartition → 3 count, 4 repartition → 5 reduce.
        let r = rewrite(&[
            (Plain, &[]),
            (KeyChanging, &[0]),
            (Repartition, &[1]),
            (Plain, &[2]),
            (Repartition, &[1]),
            (Plain, &[4]),
        ]);
        assert_eq!(
            r.groups,
            vec![MergeGroup {
                key_changer: 1,
                repartitions: vec![2, 4]
            }]
        );
        assert_eq!(r.parents[6], vec![1]);
        assert_eq!(r.parents[3], vec![6]);
        assert_eq!(r.parents[5], vec![6]);
        assert_eq!(r.removed, vec![false, false, true, false, true, false]);
    }

    #[test]
    fn nodes_between_move_below_the_merged_repartition() {
        // 1 selectKey → 2 filter → 3 repartition → 4 count; 1 → 5 peek → 6 repartition → 7.
        let r = rewrite(&[
            (Plain, &[]),
            (KeyChanging, &[0]),
            (Plain, &[1]),
            (Repartition, &[2]),
            (Plain, &[3]),
            (Plain, &[1]),
            (Repartition, &[5]),
            (Plain, &[6]),
        ]);
        assert_eq!(r.parents[8], vec![1]);
        assert_eq!(r.parents[2], vec![8]);
        assert_eq!(r.parents[5], vec![8]);
        assert_eq!(r.parents[4], vec![2]);
        assert_eq!(r.parents[7], vec![5]);
    }

    #[test]
    fn a_value_change_in_between_keeps_its_repartition() {
        // 1 selectKey → 2 mapValues → 3 repartition; 1 → 4 repartition.
        let r = rewrite(&[
            (Plain, &[]),
            (KeyChanging, &[0]),
            (ValueChanging, &[1]),
            (Repartition, &[2]),
            (Repartition, &[1]),
        ]);
        assert_eq!(r.groups[0].repartitions, vec![4]);
        assert!(!r.removed[3] && r.removed[4]);
        assert_eq!(r.parents[3], vec![2]);
    }

    #[test]
    fn a_shared_node_below_the_key_change_is_moved_once() {
        // 1 selectKey → 2 filter → {3 repartition → 4, 5 repartition → 6}: Kafka throws.
        let r = rewrite(&[
            (Plain, &[]),
            (KeyChanging, &[0]),
            (Plain, &[1]),
            (Repartition, &[2]),
            (Plain, &[3]),
            (Repartition, &[2]),
            (Plain, &[5]),
        ]);
        assert_eq!(r.parents[7], vec![1]);
        assert_eq!(r.parents[2], vec![7]);
        assert_eq!(r.parents[4], vec![2]);
        assert_eq!(r.parents[6], vec![2]);
        assert!(r.removed[3] && r.removed[5]);
    }

    #[test]
    fn a_merge_of_key_changed_streams_gets_the_repartition() {
        // 0, 1 sources; 2 selectKey(0), 3 map(1), 4 merge(2, 3), 5 repartition → 6.
        let r = rewrite(&[
            (Plain, &[]),
            (Plain, &[]),
            (KeyChanging, &[0]),
            (KeyChanging, &[1]),
            (Merge, &[2, 3]),
            (Repartition, &[4]),
            (Plain, &[5]),
        ]);
        assert_eq!(
            r.groups,
            vec![MergeGroup {
                key_changer: 4,
                repartitions: vec![5]
            }]
        );
        assert_eq!(r.parents[7], vec![4]);
        assert_eq!(r.parents[6], vec![7]);
    }

    #[test]
    fn without_a_key_change_nothing_moves() {
        let r = rewrite(&[(Plain, &[]), (Repartition, &[0]), (Plain, &[1])]);
        assert!(r.groups.is_empty());
        assert_eq!(r.parents.len(), 3);
        assert!(!r.removed.iter().any(|&x| x));
    }
}
