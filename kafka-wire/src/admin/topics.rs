//! Creating, deleting, describing and growing topics, and `ensure_topics` for internal topics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::configs::{AlterConfigOp, ConfigResource};
use super::Admin;
use crate::cluster::{PartitionMetadata, TopicsToRefresh};
use crate::error::{Error, Result};
use crate::protocol::messages::create_partitions_request::CreatePartitionsTopic;
use crate::protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use crate::protocol::messages::delete_topics_request::DeleteTopicState;
use crate::protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
};
use crate::protocol::{ApiKey, ErrorCode, Uuid};

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Partition count; -1 for the broker's `num.partitions`.
    pub num_partitions: i32,
    /// Replication factor; -1 for the broker's `default.replication.factor`.
    pub replication_factor: i16,
    /// Topic configs, e.g. `cleanup.policy=compact`.
    pub configs: BTreeMap<String, String>,
    /// Explicit replica assignment (partition → brokers); overrides the counts.
    pub replica_assignment: BTreeMap<i32, Vec<i32>>,
}

impl NewTopic {
    /// A topic with `partitions` partitions and `replication_factor` replicas.
    pub fn new(name: impl Into<String>, partitions: i32, replication_factor: i16) -> Self {
        NewTopic {
            name: name.into(),
            num_partitions: partitions,
            replication_factor,
            configs: BTreeMap::new(),
            replica_assignment: BTreeMap::new(),
        }
    }

    /// Add a topic config.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.insert(key.into(), value.into());
        self
    }
}

/// A topic as described by metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    /// Name.
    pub name: String,
    /// Topic id.
    pub topic_id: Uuid,
    /// Internal topic (`__consumer_offsets`, `__transaction_state`).
    pub is_internal: bool,
    /// Partitions with leader, replicas and ISR.
    pub partitions: Vec<PartitionMetadata>,
}

/// What [`Admin::ensure_topics`] did for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnsureOutcome {
    /// The topic did not exist and was created.
    Created,
    /// The topic existed with the wanted partition count and configs.
    Unchanged,
    /// The topic existed; these configs were set to the wanted values.
    ConfigsUpdated(Vec<String>),
}

fn topic_error(op: &'static str, name: &str, code: i16, message: Option<String>) -> Result<()> {
    match ErrorCode(code) {
        ErrorCode::NONE => Ok(()),
        code => Err(Error::kafka(op, name, code, message)),
    }
}

impl Admin {
    /// Create one topic; fails with TOPIC_ALREADY_EXISTS if it exists.
    pub async fn create_topic(&self, topic: NewTopic) -> Result<()> {
        let name = topic.name.clone();
        self.create_topics(vec![topic], false)
            .await?
            .remove(&name)
            .unwrap_or_else(|| {
                Err(Error::Protocol {
                    operation: "CreateTopics",
                    detail: format!("no result for topic {name}"),
                })
            })
    }

    /// Create topics; the result has one entry per topic. With `validate_only` the broker
    /// checks the request without creating anything.
    pub async fn create_topics(
        &self,
        topics: Vec<NewTopic>,
        validate_only: bool,
    ) -> Result<BTreeMap<String, Result<()>>> {
        let timeout_ms = self.request_timeout_ms();
        let request = CreateTopicsRequest {
            topics: topics
                .iter()
                .map(|t| CreatableTopic {
                    name: t.name.clone(),
                    num_partitions: if t.replica_assignment.is_empty() {
                        t.num_partitions
                    } else {
                        -1
                    },
                    replication_factor: if t.replica_assignment.is_empty() {
                        t.replication_factor
                    } else {
                        -1
                    },
                    assignments: t
                        .replica_assignment
                        .iter()
                        .map(|(p, brokers)| CreatableReplicaAssignment {
                            partition_index: *p,
                            broker_ids: brokers.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    configs: t
                        .configs
                        .iter()
                        .map(|(k, v)| CreatableTopicConfig {
                            name: k.clone(),
                            value: Some(v.clone()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            timeout_ms,
            validate_only,
            ..Default::default()
        };
        let response = self
            .client
            .retry("CreateTopics", || async {
                let r = self.client.send_routed(&request).await?;
                // NOT_CONTROLLER on every topic: the controller moved, retry the whole request.
                if let Some(t) = r
                    .topics
                    .iter()
                    .find(|t| ErrorCode(t.error_code) == ErrorCode::NOT_CONTROLLER)
                {
                    return Err(Error::kafka(
                        "CreateTopics",
                        t.name.clone(),
                        ErrorCode::NOT_CONTROLLER,
                        None,
                    ));
                }
                Ok(r)
            })
            .await?;
        let mut out: BTreeMap<String, Result<()>> = response
            .topics
            .into_iter()
            .map(|t| {
                let r = topic_error("CreateTopics", &t.name, t.error_code, t.error_message);
                (t.name, r)
            })
            .collect();
        for t in &topics {
            out.entry(t.name.clone()).or_insert_with(|| {
                Err(Error::Protocol {
                    operation: "CreateTopics",
                    detail: format!("the broker returned no result for {}", t.name),
                })
            });
        }
        self.client.invalidate_metadata();
        Ok(out)
    }

    /// Delete topics by name; one result per topic.
    pub async fn delete_topics(&self, names: &[&str]) -> Result<BTreeMap<String, Result<()>>> {
        let timeout_ms = self.request_timeout_ms();
        let response =
            self.client
                .retry("DeleteTopics", || async {
                    let controller = self.client.metadata().controller_id;
                    let conn =
                        match controller {
                            Some(id) => self.client.connection(id).await?,
                            None => {
                                let any =
                                    *self.client.metadata().brokers.keys().next().ok_or_else(
                                        || {
                                            Error::from(
                                                crate::error::ClientError::NoBrokersInMetadata,
                                            )
                                        },
                                    )?;
                                self.client.connection(any).await?
                            }
                        };
                    let version = conn.version_for(ApiKey::DeleteTopics)?;
                    let mut request = DeleteTopicsRequest {
                        timeout_ms,
                        ..Default::default()
                    };
                    if version >= 6 {
                        request.topics = names
                            .iter()
                            .map(|n| DeleteTopicState {
                                name: Some((*n).to_owned()),
                                ..Default::default()
                            })
                            .collect();
                    } else {
                        request.topic_names = names.iter().map(|n| (*n).to_owned()).collect();
                    }
                    let r = conn.send_at(&request, version).await?;
                    if r.responses
                        .iter()
                        .any(|t| ErrorCode(t.error_code) == ErrorCode::NOT_CONTROLLER)
                    {
                        return Err(Error::kafka(
                            "DeleteTopics",
                            names.join(","),
                            ErrorCode::NOT_CONTROLLER,
                            None,
                        ));
                    }
                    Ok(r)
                })
                .await?;
        self.client.invalidate_metadata();
        let mut out = BTreeMap::new();
        for t in response.responses {
            let name = t.name.clone().unwrap_or_else(|| t.topic_id.to_string());
            let r = topic_error("DeleteTopics", &name, t.error_code, t.error_message);
            out.insert(name, r);
        }
        Ok(out)
    }

    /// Grow `topic` to `total` partitions.
    pub async fn create_partitions(&self, topic: &str, total: i32) -> Result<()> {
        let timeout_ms = self.request_timeout_ms();
        let request = CreatePartitionsRequest {
            topics: vec![CreatePartitionsTopic {
                name: topic.to_owned(),
                count: total,
                assignments: None,
                ..Default::default()
            }],
            timeout_ms,
            ..Default::default()
        };
        let r = self
            .client
            .retry("CreatePartitions", || async {
                let r = self.client.send_routed(&request).await?;
                for t in &r.results {
                    if ErrorCode(t.error_code) == ErrorCode::NOT_CONTROLLER {
                        return Err(Error::kafka(
                            "CreatePartitions",
                            topic,
                            ErrorCode::NOT_CONTROLLER,
                            None,
                        ));
                    }
                }
                Ok(r)
            })
            .await?;
        self.client.invalidate_metadata();
        match r.results.into_iter().find(|t| t.name == topic) {
            Some(t) => topic_error("CreatePartitions", topic, t.error_code, t.error_message),
            None => Err(Error::Protocol {
                operation: "CreatePartitions",
                detail: format!("no result for {topic}"),
            }),
        }
    }

    /// Names of all non-internal topics.
    pub async fn list_topics(&self) -> Result<Vec<String>> {
        self.client.refresh_metadata(TopicsToRefresh::All).await?;
        Ok(self
            .client
            .metadata()
            .topics
            .values()
            .filter(|t| !t.is_internal)
            .map(|t| t.name.clone())
            .collect())
    }

    /// Describe topics; a missing topic is an UNKNOWN_TOPIC_OR_PARTITION error.
    pub async fn describe_topics(&self, names: &[&str]) -> Result<Vec<TopicDescription>> {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        self.client
            .refresh_metadata(TopicsToRefresh::Some(names.clone()))
            .await?;
        let m = self.client.metadata();
        names
            .iter()
            .map(|n| match m.topics.get(n) {
                Some(t) => Ok(TopicDescription {
                    name: t.name.clone(),
                    topic_id: t.topic_id,
                    is_internal: t.is_internal,
                    partitions: t.partitions.clone(),
                }),
                None => Err(Error::kafka(
                    "DescribeTopics",
                    n.clone(),
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    None,
                )),
            })
            .collect()
    }

    /// Make sure each topic exists with its partition count and configs; idempotent.
    ///
    /// Missing topics are created (a concurrent creation by another instance is fine);
    /// existing topics must have the wanted partition count (otherwise an error, as Kafka
    /// Streams reports for internal topics), and configs that differ are set with
    /// IncrementalAlterConfigs. Returns once every topic has a leader for every partition, or
    /// fails after `default.api.timeout.ms`.
    pub async fn ensure_topics(
        &self,
        topics: &[NewTopic],
    ) -> Result<BTreeMap<String, EnsureOutcome>> {
        let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
        self.client
            .refresh_metadata(TopicsToRefresh::Some(names.clone()))
            .await?;
        let existing = self.client.metadata();
        let missing: Vec<NewTopic> = topics
            .iter()
            .filter(|t| !existing.topics.contains_key(&t.name))
            .cloned()
            .collect();
        let mut outcome = BTreeMap::new();
        if !missing.is_empty() {
            for (name, r) in self.create_topics(missing, false).await? {
                match r {
                    Ok(()) => {
                        outcome.insert(name, EnsureOutcome::Created);
                    }
                    Err(e) if e.code() == Some(ErrorCode::TOPIC_ALREADY_EXISTS) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.wait_for_leaders(&names).await?;
        let m = self.client.metadata();
        for t in topics {
            if outcome.contains_key(&t.name) {
                continue;
            }
            let have = m.partition_count(&t.name).unwrap_or(0);
            if t.num_partitions > 0 && have != t.num_partitions as usize {
                return Err(crate::error::ClientError::PartitionCountMismatch {
                    topic: t.name.clone(),
                    actual: have,
                    required: t.num_partitions as usize,
                }
                .into());
            }
            let resource = ConfigResource::Topic(t.name.clone());
            let current = self
                .describe_configs(std::slice::from_ref(&resource))
                .await?;
            let current: BTreeMap<String, Option<String>> = current
                .into_values()
                .flatten()
                .map(|e| (e.name, e.value))
                .collect();
            let changes: Vec<AlterConfigOp> = t
                .configs
                .iter()
                .filter(|(k, v)| current.get(*k).and_then(|c| c.as_ref()) != Some(*v))
                .map(|(k, v)| AlterConfigOp::Set(k.clone(), v.clone()))
                .collect();
            if changes.is_empty() {
                outcome.insert(t.name.clone(), EnsureOutcome::Unchanged);
            } else {
                let keys = changes.iter().map(|c| c.name().to_owned()).collect();
                self.incremental_alter_configs(&resource, &changes).await?;
                outcome.insert(t.name.clone(), EnsureOutcome::ConfigsUpdated(keys));
            }
        }
        Ok(outcome)
    }

    /// Wait until metadata shows every partition of `names` with a leader.
    pub async fn wait_for_leaders(&self, names: &[String]) -> Result<()> {
        let deadline = Instant::now() + self.client.config().default_api_timeout;
        loop {
            self.client
                .refresh_metadata(TopicsToRefresh::Some(names.to_vec()))
                .await?;
            let m = self.client.metadata();
            let ready = names.iter().all(|n| {
                m.topics.get(n).is_some_and(|t| {
                    !t.partitions.is_empty() && t.partitions.iter().all(|p| p.leader.is_some())
                })
            });
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    operation: "wait for topic leaders",
                    timeout: self.client.config().default_api_timeout,
                    last: Box::new(Error::kafka(
                        "Metadata",
                        names.join(","),
                        ErrorCode::LEADER_NOT_AVAILABLE,
                        None,
                    )),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
