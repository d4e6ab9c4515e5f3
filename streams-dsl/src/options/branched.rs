//! [`Branched`]: one branch of `split()`.

use crate::kstream::KStream;

type Chain<K, V> = Box<dyn FnOnce(KStream<K, V>) -> Option<KStream<K, V>>>;

/// A branch's name and what to do with its stream (Kafka's `Branched`). Without a chain
/// the branch's stream is returned in the map of
/// [`BranchedKStream::default_branch`](crate::BranchedKStream::default_branch) under
/// `<split name><branch name or index>`.
pub struct Branched<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) chain: Option<Chain<K, V>>,
}

impl<K, V> Default for Branched<K, V> {
    fn default() -> Self {
        Branched {
            name: None,
            chain: None,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Branched<K, V> {
    /// A branch named `name` (Kafka's `Branched.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Branched {
            name: Some(name.into()),
            chain: None,
        }
    }

    /// Apply `chain` to the branch; its result is what the map holds (Kafka's
    /// `Branched.withFunction`).
    pub fn with_function(chain: impl FnOnce(KStream<K, V>) -> KStream<K, V> + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| Some(chain(s)))),
        }
    }

    /// Hand the branch to `consumer`; it is then left out of the map (Kafka's
    /// `Branched.withConsumer`).
    pub fn with_consumer(consumer: impl FnOnce(KStream<K, V>) + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| {
                consumer(s);
                None
            })),
        }
    }

    /// Name this branch.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}
