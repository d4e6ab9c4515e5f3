//! `split()`'s processor (Kafka's `KStreamBranch`): each record goes to the first branch
//! whose predicate accepts it, else to the default branch, if there is one, else nowhere.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

/// A branch's predicate.
pub(crate) type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// The router: predicates in branch order, child names (one more when there is a default).
pub(crate) struct Branch<K, V> {
    pub predicates: Arc<[Predicate<K, V>]>,
    pub children: Arc<[String]>,
}

impl<K, V> Branch<K, V> {
    /// The index of the child `key`/`value` goes to.
    pub(crate) fn route(&self, key: &K, value: &V) -> Option<usize> {
        self.predicates
            .iter()
            .position(|p| p(key, value))
            .or_else(|| {
                (self.children.len() > self.predicates.len()).then_some(self.predicates.len())
            })
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for Branch<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        if let Some(child) = self
            .route(&record.key, &record.value)
            .and_then(|i| self.children.get(i))
        {
            ctx.forward_to(child, record)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(with_default: bool) -> Branch<String, i64> {
        let mut children = vec!["B1".to_owned(), "B2".to_owned()];
        if with_default {
            children.push("B0".to_owned());
        }
        Branch {
            predicates: Arc::from(vec![
                Arc::new(|_: &String, v: &i64| *v < 0) as Predicate<String, i64>,
                Arc::new(|_: &String, v: &i64| *v < 10),
            ]),
            children: Arc::from(children),
        }
    }

    #[test]
    fn the_first_matching_branch_wins_then_the_default() {
        let r = router(true);
        let k = "k".to_owned();
        assert_eq!(r.route(&k, &-5), Some(0), "both match: the first wins");
        assert_eq!(r.route(&k, &5), Some(1));
        assert_eq!(r.route(&k, &50), Some(2), "the default branch");
        assert_eq!(
            router(false).route(&k, &50),
            None,
            "dropped without a default"
        );
    }
}
