//! The pseudo-topics a foreign-key join serializes its keys and values for outside of a real
//! topic (Kafka's `<registration topic>-pk`, `-fk`, `-vh`, decorated with the application id
//! as Kafka's `decoratePseudoTopic`): what a topic-aware serde (a schema registry's) sees, so
//! it registers and finds the subjects a Java instance of the application uses.

use std::sync::{Arc, OnceLock};

/// One join's pseudo-topics: undecorated until the first processor of the join learns the
/// application id ([`PseudoTopics::init`]); shared by the join's processors and serdes.
#[derive(Clone, Debug)]
pub(crate) struct PseudoTopics {
    undecorated: Arc<Names>,
    decorated: Arc<OnceLock<Names>>,
}

#[derive(Debug)]
struct Names {
    primary_key: String,
    foreign_key: String,
    value_hash: String,
}

impl Names {
    fn of(base: &str) -> Self {
        Names {
            primary_key: format!("{base}-pk"),
            foreign_key: format!("{base}-fk"),
            value_hash: format!("{base}-vh"),
        }
    }
}

impl PseudoTopics {
    /// The pseudo-topics of the join whose registration topic is `registration_topic` (as
    /// named in the topology).
    pub fn new(registration_topic: &str) -> Self {
        PseudoTopics {
            undecorated: Arc::new(Names::of(registration_topic)),
            decorated: Arc::new(OnceLock::new()),
        }
    }

    /// Decorate with `application_id` (`<application.id>-<topic>-pk`, …); later calls keep
    /// the first id (one application per process runs one topology instance).
    pub fn init(&self, application_id: &str) {
        self.decorated.get_or_init(|| {
            let base = self
                .undecorated
                .primary_key
                .strip_suffix("-pk")
                .unwrap_or(&self.undecorated.primary_key);
            Names::of(&format!("{application_id}-{base}"))
        });
    }

    fn names(&self) -> &Names {
        self.decorated.get().unwrap_or(&self.undecorated)
    }

    /// Where primary keys are serialized (subscriptions, the subscription store's keys).
    pub fn primary_key(&self) -> &str {
        &self.names().primary_key
    }

    /// Where foreign keys are serialized (compared, and in the subscription store's keys).
    pub fn foreign_key(&self) -> &str {
        &self.names().foreign_key
    }

    /// Where left values are serialized to be hashed.
    pub fn value_hash(&self) -> &str {
        &self.names().value_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decorated_once_the_application_id_is_known() {
        let t = PseudoTopics::new("KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic");
        let shared = t.clone();
        assert_eq!(
            t.primary_key(),
            "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic-pk"
        );
        shared.init("app");
        shared.init("other");
        assert_eq!(
            t.foreign_key(),
            "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic-fk"
        );
        assert_eq!(
            t.value_hash(),
            "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic-vh"
        );
    }
}
