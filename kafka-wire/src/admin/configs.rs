//! Describing and altering topic and broker configs.

use std::collections::BTreeMap;

use super::Admin;
use crate::error::{Error, Result};
use crate::protocol::messages::describe_configs_request::DescribeConfigsResource;
use crate::protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use crate::protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use crate::protocol::ErrorCode;

/// A resource that has configs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigResource {
    /// A topic's configs (resource type 2).
    Topic(String),
    /// A broker's configs (resource type 4), by node id.
    Broker(i32),
}

impl ConfigResource {
    fn wire(&self) -> (i8, String) {
        match self {
            ConfigResource::Topic(t) => (2, t.clone()),
            ConfigResource::Broker(id) => (4, id.to_string()),
        }
    }

    fn broker(&self) -> Option<i32> {
        match self {
            ConfigResource::Broker(id) => Some(*id),
            ConfigResource::Topic(_) => None,
        }
    }
}

impl std::fmt::Display for ConfigResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigResource::Topic(t) => write!(f, "topic {t}"),
            ConfigResource::Broker(b) => write!(f, "broker {b}"),
        }
    }
}

/// Where a config value comes from (DescribeConfigs `ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic.
    DynamicTopic,
    /// Set dynamically on this broker.
    DynamicBroker,
    /// Set dynamically as the cluster-wide broker default.
    DynamicDefaultBroker,
    /// From the broker's properties file.
    StaticBroker,
    /// Kafka's built-in default.
    Default,
    /// Another source (number as sent).
    Other(i8),
}

impl From<i8> for ConfigSource {
    fn from(v: i8) -> Self {
        match v {
            1 => ConfigSource::DynamicTopic,
            2 => ConfigSource::DynamicBroker,
            3 => ConfigSource::DynamicDefaultBroker,
            4 => ConfigSource::StaticBroker,
            5 => ConfigSource::Default,
            n => ConfigSource::Other(n),
        }
    }
}

/// One config entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Config name.
    pub name: String,
    /// Value; `None` for sensitive values or unset.
    pub value: Option<String>,
    /// Cannot be changed.
    pub read_only: bool,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// A password or other secret.
    pub is_sensitive: bool,
}

/// An IncrementalAlterConfigs operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterConfigOp {
    /// Set a value.
    Set(String, String),
    /// Revert to the default.
    Delete(String),
    /// Append to a list config.
    Append(String, String),
    /// Remove from a list config.
    Subtract(String, String),
}

impl AlterConfigOp {
    /// The config name.
    pub fn name(&self) -> &str {
        match self {
            AlterConfigOp::Set(n, _)
            | AlterConfigOp::Delete(n)
            | AlterConfigOp::Append(n, _)
            | AlterConfigOp::Subtract(n, _) => n,
        }
    }

    fn wire(&self) -> AlterableConfig {
        let (op, value) = match self {
            AlterConfigOp::Set(_, v) => (0, Some(v.clone())),
            AlterConfigOp::Delete(_) => (1, None),
            AlterConfigOp::Append(_, v) => (2, Some(v.clone())),
            AlterConfigOp::Subtract(_, v) => (3, Some(v.clone())),
        };
        AlterableConfig {
            name: self.name().to_owned(),
            config_operation: op,
            value,
            ..Default::default()
        }
    }
}

impl Admin {
    /// Describe the configs of resources. Broker configs are asked of that broker.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<BTreeMap<ConfigResource, Vec<ConfigEntry>>> {
        let mut out = BTreeMap::new();
        for resource in resources {
            let (resource_type, resource_name) = resource.wire();
            let request = DescribeConfigsRequest {
                resources: vec![DescribeConfigsResource {
                    resource_type,
                    resource_name,
                    configuration_keys: None,
                    ..Default::default()
                }],
                ..Default::default()
            };
            let r = self
                .client
                .retry("DescribeConfigs", || async {
                    match resource.broker() {
                        Some(id) => self.client.send_to_node(id, &request).await,
                        None => self.client.send_to_any(&request).await,
                    }
                })
                .await?;
            let result = r
                .results
                .into_iter()
                .next()
                .ok_or_else(|| Error::Protocol {
                    operation: "DescribeConfigs",
                    detail: format!("no result for {resource}"),
                })?;
            let code = ErrorCode(result.error_code);
            if !code.is_ok() {
                return Err(Error::kafka(
                    "DescribeConfigs",
                    resource.to_string(),
                    code,
                    result.error_message,
                ));
            }
            let entries = result
                .configs
                .into_iter()
                .map(|c| ConfigEntry {
                    name: c.name,
                    value: c.value,
                    read_only: c.read_only,
                    source: ConfigSource::from(c.config_source),
                    is_sensitive: c.is_sensitive,
                })
                .collect();
            out.insert(resource.clone(), entries);
        }
        Ok(out)
    }

    /// Apply config operations to one resource (IncrementalAlterConfigs).
    pub async fn incremental_alter_configs(
        &self,
        resource: &ConfigResource,
        ops: &[AlterConfigOp],
    ) -> Result<()> {
        let (resource_type, resource_name) = resource.wire();
        let request = IncrementalAlterConfigsRequest {
            resources: vec![AlterConfigsResource {
                resource_type,
                resource_name,
                configs: ops.iter().map(AlterConfigOp::wire).collect(),
                ..Default::default()
            }],
            validate_only: false,
            ..Default::default()
        };
        let r = self
            .client
            .retry("IncrementalAlterConfigs", || async {
                match resource.broker() {
                    Some(id) => self.client.send_to_node(id, &request).await,
                    None => self.client.send_to_controller(&request).await,
                }
            })
            .await?;
        for resp in r.responses {
            let code = ErrorCode(resp.error_code);
            if !code.is_ok() {
                return Err(Error::kafka(
                    "IncrementalAlterConfigs",
                    resource.to_string(),
                    code,
                    resp.error_message,
                ));
            }
        }
        Ok(())
    }
}
