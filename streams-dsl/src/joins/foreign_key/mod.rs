//! Foreign-key table-table joins (KIP-213, Kafka's `KTable.join(other, foreignKeyExtractor,
//! joiner)`): the left table subscribes each row to the right row its foreign key names
//! through a registration topic partitioned like the right table ([`send`]); the right side
//! keeps the subscriptions in a store keyed by `(foreign key, primary key)` and answers each
//! subscription, and each right update, through a response topic partitioned like the left
//! table ([`subscriptions`]); the left side joins an answer with its current row unless the
//! row changed since (the answer's value hash differs, [`response`]). Topics and store hold
//! Kafka's bytes ([`wire`], [`murmur3`]).

pub(crate) mod error;
pub(crate) mod murmur3;
pub(crate) mod pseudo_topics;
pub(crate) mod response;
pub(crate) mod send;
pub(crate) mod subscriptions;
pub(crate) mod wire;
