//! Layer 3: the admin client. Topics, partitions, configs, offsets, records and consumer groups.
//!
//! ```no_run
//! # async fn demo() -> kafka_wire::Result<()> {
//! use kafka_wire::admin::{Admin, NewTopic};
//! use kafka_wire::config::ClientConfig;
//!
//! let admin = Admin::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! admin.create_topic(NewTopic::new("events", 6, 1).config("cleanup.policy", "compact")).await?;
//! for topic in admin.list_topics().await? {
//!     println!("{topic}");
//! }
//! # Ok(()) }
//! ```

mod configs;
mod groups;
mod offsets;
mod topics;

pub use configs::{AlterConfigOp, ConfigEntry, ConfigResource, ConfigSource};
pub use groups::{GroupDescription, GroupListing, MemberDescription, PartitionLag};
pub use offsets::{ListOffsetsOptions, ListedOffset, OffsetSpec};
pub use topics::{EnsureOutcome, NewTopic, TopicDescription};

use crate::cluster::{BrokerMetadata, Client, TopicsToRefresh};
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::protocol::messages::DescribeClusterRequest;
use crate::protocol::{ApiKey, ErrorCode};

/// What [`Admin::describe_cluster`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Node id of the active controller as the brokers report it.
    pub controller_id: Option<i32>,
    /// Brokers by node id.
    pub brokers: Vec<BrokerMetadata>,
}

/// The admin client.
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
}

impl Admin {
    /// Connect to the cluster.
    pub async fn connect(config: ClientConfig) -> Result<Admin> {
        Ok(Admin {
            client: Client::connect(config).await?,
        })
    }

    /// An admin client sharing an existing [`Client`]'s connections.
    pub fn from_client(client: Client) -> Admin {
        Admin { client }
    }

    /// `request.timeout.ms` as the `timeout_ms` field of admin requests.
    fn request_timeout_ms(&self) -> i32 {
        i32::try_from(self.client.config().request_timeout.as_millis()).unwrap_or(i32::MAX)
    }

    /// The underlying cluster client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Cluster id, controller and brokers (DescribeCluster, or Metadata on brokers without it).
    pub async fn describe_cluster(&self) -> Result<ClusterDescription> {
        let supported = {
            let m = self.client.metadata();
            match m.brokers.keys().next() {
                Some(id) => self
                    .client
                    .connection(*id)
                    .await?
                    .api_versions()
                    .version(ApiKey::DescribeCluster)
                    .is_some(),
                None => false,
            }
        };
        if supported {
            let request = DescribeClusterRequest::default();
            let r = self
                .client
                .retry("DescribeCluster", || self.client.send_routed(&request))
                .await?;
            let code = ErrorCode(r.error_code);
            if !code.is_ok() {
                return Err(Error::kafka(
                    "DescribeCluster",
                    "cluster",
                    code,
                    r.error_message,
                ));
            }
            let brokers = r
                .brokers
                .into_iter()
                .map(|b| BrokerMetadata {
                    node_id: b.broker_id,
                    address: crate::config::BrokerAddress {
                        host: b.host,
                        port: u16::try_from(b.port).unwrap_or(0),
                    },
                    rack: b.rack,
                })
                .collect();
            return Ok(ClusterDescription {
                cluster_id: Some(r.cluster_id),
                controller_id: (r.controller_id >= 0).then_some(r.controller_id),
                brokers,
            });
        }
        self.client.refresh_metadata(TopicsToRefresh::None).await?;
        let m = self.client.metadata();
        Ok(ClusterDescription {
            cluster_id: m.cluster_id.clone(),
            controller_id: m.controller_id,
            brokers: m.brokers.values().cloned().collect(),
        })
    }
}
