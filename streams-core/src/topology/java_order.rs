//! The iteration orders of the Java collections Kafka Streams describes a topology with, so
//! that [`super::describe`] lists topics, stores, predecessors and successors in the order
//! Java prints them.
//!
//! Java's `TopologyDescription` keeps topics and stores in `HashSet`s (printed in hash-bucket
//! order), and a node's predecessors and successors in `TreeSet`s ordered by sub-tree size,
//! where the sizes keep growing after a node was inserted. Such a `TreeSet` is not sorted by
//! the final sizes: its order is whatever the red-black tree's insertion walks produced. This
//! module reproduces both: [`hash_set_order`] (the bucket layout of `java.util.HashMap`) and
//! [`JavaTreeSet`] (the insertion and rebalancing of `java.util.TreeMap`), each written from
//! the documented behaviour of those classes.

use std::cmp::Ordering;

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub(crate) fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
pub(crate) fn string_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The smallest power of two `>= cap` (Java's `HashMap.tableSizeFor`), at least 1.
fn table_size_for(cap: usize) -> usize {
    cap.max(1).next_power_of_two()
}

/// The initial capacity `new HashSet<>(collection)` asks for: `max(n / 0.75 + 1, 16)`
/// (JDK 17; JDK 19 and later ask for `ceil(n / 0.75)` with at least 12 elements, which only
/// differs when `n / 0.75` is a power of two, i.e. for 12, 24, 48, ... elements).
pub(crate) fn copy_capacity(n: usize) -> usize {
    ((n as f32 / 0.75) as usize + 1).max(16)
}

/// The order a `java.util.HashSet<String>` created with `initial_capacity` (16 for
/// `new HashSet<>()`) iterates `items`, added in the given order (duplicates after the first
/// are ignored, as `add` does).
///
/// A `HashMap` puts a key in bucket `(h ^ (h >>> 16)) & (capacity - 1)`, appends it to that
/// bucket's list, and doubles the table when its size exceeds 3/4 of the capacity; a resize
/// splits each list keeping its order. Iteration walks the buckets in order, so the result is
/// the keys sorted by their bucket at the final capacity, then by insertion. (Buckets of 8 or
/// more colliding keys, turned into trees by Java, are not modelled.)
pub(crate) fn hash_set_order<'a>(items: &[&'a str], initial_capacity: usize) -> Vec<&'a str> {
    let mut unique: Vec<&'a str> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(item) {
            unique.push(item);
        }
    }
    let mut capacity = table_size_for(initial_capacity);
    for size in 1..=unique.len() {
        if size > capacity * 3 / 4 {
            capacity *= 2;
        }
    }
    let bucket = |s: &str| {
        let h = string_hash(s) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut ordered: Vec<(usize, usize, &'a str)> = unique
        .into_iter()
        .enumerate()
        .map(|(i, s)| (bucket(s), i, s))
        .collect();
    ordered.sort_unstable();
    ordered.into_iter().map(|(_, _, s)| s).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Color {
    Red,
    Black,
}

struct Entry {
    key: usize,
    left: Option<usize>,
    right: Option<usize>,
    parent: Option<usize>,
    color: Color,
}

/// A `java.util.TreeSet` of keys (`usize` ids) with a comparator that may change its mind
/// between insertions: each `insert` walks down from the root comparing the new key with the
/// entries on its way, exactly as `TreeMap.put`, then rebalances as `TreeMap` does (the
/// red-black insertion of Cormen et al.), so later walks take the same paths as in Java.
#[derive(Default)]
pub(crate) struct JavaTreeSet {
    entries: Vec<Entry>,
    root: Option<usize>,
}

impl JavaTreeSet {
    /// Add `key`, comparing it with `compare(key, existing)`; `false` if an entry compared
    /// equal (the set is unchanged).
    pub fn insert(
        &mut self,
        key: usize,
        mut compare: impl FnMut(usize, usize) -> Ordering,
    ) -> bool {
        let Some(mut t) = self.root else {
            self.entries.push(Entry {
                key,
                left: None,
                right: None,
                parent: None,
                color: Color::Black,
            });
            self.root = Some(self.entries.len() - 1);
            return true;
        };
        let (parent, left) = loop {
            let next = match compare(key, self.entries[t].key) {
                Ordering::Less => (self.entries[t].left, true),
                Ordering::Greater => (self.entries[t].right, false),
                Ordering::Equal => return false,
            };
            match next {
                (Some(n), _) => t = n,
                (None, left) => break (t, left),
            }
        };
        let e = self.entries.len();
        self.entries.push(Entry {
            key,
            left: None,
            right: None,
            parent: Some(parent),
            color: Color::Red,
        });
        if left {
            self.entries[parent].left = Some(e);
        } else {
            self.entries[parent].right = Some(e);
        }
        self.fix_after_insertion(e);
        true
    }

    /// The keys in iteration (in-order) order.
    pub fn keys(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.entries.len());
        let mut stack = Vec::new();
        let mut cur = self.root;
        while cur.is_some() || !stack.is_empty() {
            while let Some(c) = cur {
                stack.push(c);
                cur = self.entries[c].left;
            }
            if let Some(c) = stack.pop() {
                out.push(self.entries[c].key);
                cur = self.entries[c].right;
            }
        }
        out
    }

    fn parent_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.entries[x].parent)
    }
    fn left_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.entries[x].left)
    }
    fn right_of(&self, x: Option<usize>) -> Option<usize> {
        x.and_then(|x| self.entries[x].right)
    }
    fn color_of(&self, x: Option<usize>) -> Color {
        x.map_or(Color::Black, |x| self.entries[x].color)
    }
    fn set_color(&mut self, x: Option<usize>, color: Color) {
        if let Some(x) = x {
            self.entries[x].color = color;
        }
    }

    fn rotate_left(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(r) = self.entries[p].right else {
            return;
        };
        let r_left = self.entries[r].left;
        self.entries[p].right = r_left;
        if let Some(rl) = r_left {
            self.entries[rl].parent = Some(p);
        }
        let pp = self.entries[p].parent;
        self.entries[r].parent = pp;
        match pp {
            None => self.root = Some(r),
            Some(pp) if self.entries[pp].left == Some(p) => self.entries[pp].left = Some(r),
            Some(pp) => self.entries[pp].right = Some(r),
        }
        self.entries[r].left = Some(p);
        self.entries[p].parent = Some(r);
    }

    fn rotate_right(&mut self, p: Option<usize>) {
        let Some(p) = p else { return };
        let Some(l) = self.entries[p].left else {
            return;
        };
        let l_right = self.entries[l].right;
        self.entries[p].left = l_right;
        if let Some(lr) = l_right {
            self.entries[lr].parent = Some(p);
        }
        let pp = self.entries[p].parent;
        self.entries[l].parent = pp;
        match pp {
            None => self.root = Some(l),
            Some(pp) if self.entries[pp].right == Some(p) => self.entries[pp].right = Some(l),
            Some(pp) => self.entries[pp].left = Some(l),
        }
        self.entries[l].right = Some(p);
        self.entries[p].parent = Some(l);
    }

    fn fix_after_insertion(&mut self, x: usize) {
        let mut x = Some(x);
        self.set_color(x, Color::Red);
        while x.is_some() && x != self.root && self.color_of(self.parent_of(x)) == Color::Red {
            let p = self.parent_of(x);
            let g = self.parent_of(p);
            if p == self.left_of(g) {
                let y = self.right_of(g);
                if self.color_of(y) == Color::Red {
                    self.set_color(p, Color::Black);
                    self.set_color(y, Color::Black);
                    self.set_color(g, Color::Red);
                    x = g;
                } else {
                    if x == self.right_of(p) {
                        x = p;
                        self.rotate_left(x);
                    }
                    let p = self.parent_of(x);
                    let g = self.parent_of(p);
                    self.set_color(p, Color::Black);
                    self.set_color(g, Color::Red);
                    self.rotate_right(g);
                }
            } else {
                let y = self.left_of(g);
                if self.color_of(y) == Color::Red {
                    self.set_color(p, Color::Black);
                    self.set_color(y, Color::Black);
                    self.set_color(g, Color::Red);
                    x = g;
                } else {
                    if x == self.left_of(p) {
                        x = p;
                        self.rotate_right(x);
                    }
                    let p = self.parent_of(x);
                    let g = self.parent_of(p);
                    self.set_color(p, Color::Black);
                    self.set_color(g, Color::Red);
                    self.rotate_left(g);
                }
            }
        }
        let root = self.root;
        self.set_color(root, Color::Black);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "hello".hashCode() in Java.
        assert_eq!(string_hash("hello"), 99_162_322);
        // Overflows wrap as in Java (a well-known string hashing to Integer.MIN_VALUE).
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn string_compare_is_utf16_order() {
        assert_eq!(string_compare("a", "b"), Ordering::Less);
        assert_eq!(string_compare("Zeta", "alpha"), Ordering::Less);
        // U+FF21 sorts after a supplementary character in UTF-8 but before it in UTF-16.
        assert_eq!(string_compare("\u{FF21}", "\u{1F600}"), Ordering::Greater);
    }

    #[test]
    fn hash_set_order_by_bucket_then_insertion() {
        // Java: new HashSet<>(List.of("clicks", "views", "purchases", "signups")) iterates
        // [signups, purchases, clicks, views]
        // (checked against Kafka Streams' output in tests/describe_java.rs).
        let order = hash_set_order(&["clicks", "views", "purchases", "signups"], 16);
        assert_eq!(order, ["signups", "purchases", "clicks", "views"]);
        // "Aa" and "BB" share a hash: insertion order decides.
        assert_eq!(hash_set_order(&["BB", "Aa"], 16), ["BB", "Aa"]);
        assert_eq!(hash_set_order(&["Aa", "BB", "Aa"], 16), ["Aa", "BB"]);
    }

    #[test]
    fn copy_capacity_as_jdk17() {
        assert_eq!(copy_capacity(0), 16);
        assert_eq!(copy_capacity(11), 16);
        assert_eq!(copy_capacity(12), 17);
        assert_eq!(copy_capacity(30), 41);
    }

    #[test]
    fn tree_set_with_fixed_order_is_sorted_and_deduplicated() {
        let mut set = JavaTreeSet::default();
        for k in [5, 3, 8, 1, 4, 7, 9, 2, 6, 0, 3] {
            set.insert(k, |a, b| a.cmp(&b));
        }
        assert_eq!(set.keys(), (0..10).collect::<Vec<_>>());
        let mut desc = JavaTreeSet::default();
        for k in 0..20 {
            assert!(desc.insert(k, |a, b| b.cmp(&a)));
        }
        assert_eq!(desc.keys(), (0..20).rev().collect::<Vec<_>>());
    }

    #[test]
    fn tree_set_keeps_positions_chosen_at_insertion() {
        // Keys whose weight grows after insertion are not moved: by the final weights the
        // order would be [2, 3, 1], but 2 was placed when it weighed as much as 1, and 3 is
        // compared with the root (1) only.
        let mut weight = [0, 1, 1, 3];
        let mut set = JavaTreeSet::default();
        set.insert(1, |a, b| weight[b].cmp(&weight[a]).then(a.cmp(&b)));
        set.insert(2, |a, b| weight[b].cmp(&weight[a]).then(a.cmp(&b)));
        weight[2] = 5;
        set.insert(3, |a, b| weight[b].cmp(&weight[a]).then(a.cmp(&b)));
        assert_eq!(set.keys(), [3, 1, 2]);
    }
}
