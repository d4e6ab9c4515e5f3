//! Request and response types for every API the client speaks, generated from
//! Apache Kafka 4.4.0's message specs by `kafka-wire/codegen/generate.py`.
//!
//! Each message is a plain struct with public fields named as in the Kafka protocol
//! guide (snake_case). [`ApiKey`] lists the APIs with the versions this crate can
//! encode and decode; the [`Request`](crate::protocol::Request) trait ties a request to its
//! response.
// @generated: do not edit by hand.

pub mod add_offsets_to_txn_request;
pub mod add_offsets_to_txn_response;
pub mod add_partitions_to_txn_request;
pub mod add_partitions_to_txn_response;
pub mod alter_configs_request;
pub mod alter_configs_response;
pub mod api_versions_request;
pub mod api_versions_response;
pub mod consumer_group_describe_request;
pub mod consumer_group_describe_response;
pub mod consumer_group_heartbeat_request;
pub mod consumer_group_heartbeat_response;
pub mod create_partitions_request;
pub mod create_partitions_response;
pub mod create_topics_request;
pub mod create_topics_response;
pub mod delete_groups_request;
pub mod delete_groups_response;
pub mod delete_records_request;
pub mod delete_records_response;
pub mod delete_topics_request;
pub mod delete_topics_response;
pub mod describe_cluster_request;
pub mod describe_cluster_response;
pub mod describe_configs_request;
pub mod describe_configs_response;
pub mod describe_groups_request;
pub mod describe_groups_response;
pub mod describe_producers_request;
pub mod describe_producers_response;
pub mod describe_transactions_request;
pub mod describe_transactions_response;
pub mod end_txn_request;
pub mod end_txn_response;
pub mod fetch_request;
pub mod fetch_response;
pub mod find_coordinator_request;
pub mod find_coordinator_response;
pub mod heartbeat_request;
pub mod heartbeat_response;
pub mod incremental_alter_configs_request;
pub mod incremental_alter_configs_response;
pub mod init_producer_id_request;
pub mod init_producer_id_response;
pub mod join_group_request;
pub mod join_group_response;
pub mod leave_group_request;
pub mod leave_group_response;
pub mod list_groups_request;
pub mod list_groups_response;
pub mod list_offsets_request;
pub mod list_offsets_response;
pub mod list_transactions_request;
pub mod list_transactions_response;
pub mod metadata_request;
pub mod metadata_response;
pub mod offset_commit_request;
pub mod offset_commit_response;
pub mod offset_delete_request;
pub mod offset_delete_response;
pub mod offset_fetch_request;
pub mod offset_fetch_response;
pub mod produce_request;
pub mod produce_response;
pub mod request_header;
pub mod response_header;
pub mod sasl_authenticate_request;
pub mod sasl_authenticate_response;
pub mod sasl_handshake_request;
pub mod sasl_handshake_response;
pub mod streams_group_describe_request;
pub mod streams_group_describe_response;
pub mod streams_group_heartbeat_request;
pub mod streams_group_heartbeat_response;
pub mod sync_group_request;
pub mod sync_group_response;
pub mod txn_offset_commit_request;
pub mod txn_offset_commit_response;

pub use add_offsets_to_txn_request::AddOffsetsToTxnRequest;
pub use add_offsets_to_txn_response::AddOffsetsToTxnResponse;
pub use add_partitions_to_txn_request::AddPartitionsToTxnRequest;
pub use add_partitions_to_txn_response::AddPartitionsToTxnResponse;
pub use alter_configs_request::AlterConfigsRequest;
pub use alter_configs_response::AlterConfigsResponse;
pub use api_versions_request::ApiVersionsRequest;
pub use api_versions_response::ApiVersionsResponse;
pub use consumer_group_describe_request::ConsumerGroupDescribeRequest;
pub use consumer_group_describe_response::ConsumerGroupDescribeResponse;
pub use consumer_group_heartbeat_request::ConsumerGroupHeartbeatRequest;
pub use consumer_group_heartbeat_response::ConsumerGroupHeartbeatResponse;
pub use create_partitions_request::CreatePartitionsRequest;
pub use create_partitions_response::CreatePartitionsResponse;
pub use create_topics_request::CreateTopicsRequest;
pub use create_topics_response::CreateTopicsResponse;
pub use delete_groups_request::DeleteGroupsRequest;
pub use delete_groups_response::DeleteGroupsResponse;
pub use delete_records_request::DeleteRecordsRequest;
pub use delete_records_response::DeleteRecordsResponse;
pub use delete_topics_request::DeleteTopicsRequest;
pub use delete_topics_response::DeleteTopicsResponse;
pub use describe_cluster_request::DescribeClusterRequest;
pub use describe_cluster_response::DescribeClusterResponse;
pub use describe_configs_request::DescribeConfigsRequest;
pub use describe_configs_response::DescribeConfigsResponse;
pub use describe_groups_request::DescribeGroupsRequest;
pub use describe_groups_response::DescribeGroupsResponse;
pub use describe_producers_request::DescribeProducersRequest;
pub use describe_producers_response::DescribeProducersResponse;
pub use describe_transactions_request::DescribeTransactionsRequest;
pub use describe_transactions_response::DescribeTransactionsResponse;
pub use end_txn_request::EndTxnRequest;
pub use end_txn_response::EndTxnResponse;
pub use fetch_request::FetchRequest;
pub use fetch_response::FetchResponse;
pub use find_coordinator_request::FindCoordinatorRequest;
pub use find_coordinator_response::FindCoordinatorResponse;
pub use heartbeat_request::HeartbeatRequest;
pub use heartbeat_response::HeartbeatResponse;
pub use incremental_alter_configs_request::IncrementalAlterConfigsRequest;
pub use incremental_alter_configs_response::IncrementalAlterConfigsResponse;
pub use init_producer_id_request::InitProducerIdRequest;
pub use init_producer_id_response::InitProducerIdResponse;
pub use join_group_request::JoinGroupRequest;
pub use join_group_response::JoinGroupResponse;
pub use leave_group_request::LeaveGroupRequest;
pub use leave_group_response::LeaveGroupResponse;
pub use list_groups_request::ListGroupsRequest;
pub use list_groups_response::ListGroupsResponse;
pub use list_offsets_request::ListOffsetsRequest;
pub use list_offsets_response::ListOffsetsResponse;
pub use list_transactions_request::ListTransactionsRequest;
pub use list_transactions_response::ListTransactionsResponse;
pub use metadata_request::MetadataRequest;
pub use metadata_response::MetadataResponse;
pub use offset_commit_request::OffsetCommitRequest;
pub use offset_commit_response::OffsetCommitResponse;
pub use offset_delete_request::OffsetDeleteRequest;
pub use offset_delete_response::OffsetDeleteResponse;
pub use offset_fetch_request::OffsetFetchRequest;
pub use offset_fetch_response::OffsetFetchResponse;
pub use produce_request::ProduceRequest;
pub use produce_response::ProduceResponse;
pub use request_header::RequestHeader;
pub use response_header::ResponseHeader;
pub use sasl_authenticate_request::SaslAuthenticateRequest;
pub use sasl_authenticate_response::SaslAuthenticateResponse;
pub use sasl_handshake_request::SaslHandshakeRequest;
pub use sasl_handshake_response::SaslHandshakeResponse;
pub use streams_group_describe_request::StreamsGroupDescribeRequest;
pub use streams_group_describe_response::StreamsGroupDescribeResponse;
pub use streams_group_heartbeat_request::StreamsGroupHeartbeatRequest;
pub use streams_group_heartbeat_response::StreamsGroupHeartbeatResponse;
pub use sync_group_request::SyncGroupRequest;
pub use sync_group_response::SyncGroupResponse;
pub use txn_offset_commit_request::TxnOffsetCommitRequest;
pub use txn_offset_commit_response::TxnOffsetCommitResponse;

/// The Kafka APIs this crate implements, with their wire key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i16)]
pub enum ApiKey {
    /// `Produce` (key 0).
    Produce = 0,
    /// `Fetch` (key 1).
    Fetch = 1,
    /// `ListOffsets` (key 2).
    ListOffsets = 2,
    /// `Metadata` (key 3).
    Metadata = 3,
    /// `OffsetCommit` (key 8).
    OffsetCommit = 8,
    /// `OffsetFetch` (key 9).
    OffsetFetch = 9,
    /// `FindCoordinator` (key 10).
    FindCoordinator = 10,
    /// `JoinGroup` (key 11).
    JoinGroup = 11,
    /// `Heartbeat` (key 12).
    Heartbeat = 12,
    /// `LeaveGroup` (key 13).
    LeaveGroup = 13,
    /// `SyncGroup` (key 14).
    SyncGroup = 14,
    /// `DescribeGroups` (key 15).
    DescribeGroups = 15,
    /// `ListGroups` (key 16).
    ListGroups = 16,
    /// `SaslHandshake` (key 17).
    SaslHandshake = 17,
    /// `ApiVersions` (key 18).
    ApiVersions = 18,
    /// `CreateTopics` (key 19).
    CreateTopics = 19,
    /// `DeleteTopics` (key 20).
    DeleteTopics = 20,
    /// `DeleteRecords` (key 21).
    DeleteRecords = 21,
    /// `InitProducerId` (key 22).
    InitProducerId = 22,
    /// `AddPartitionsToTxn` (key 24).
    AddPartitionsToTxn = 24,
    /// `AddOffsetsToTxn` (key 25).
    AddOffsetsToTxn = 25,
    /// `EndTxn` (key 26).
    EndTxn = 26,
    /// `TxnOffsetCommit` (key 28).
    TxnOffsetCommit = 28,
    /// `DescribeConfigs` (key 32).
    DescribeConfigs = 32,
    /// `AlterConfigs` (key 33).
    AlterConfigs = 33,
    /// `SaslAuthenticate` (key 36).
    SaslAuthenticate = 36,
    /// `CreatePartitions` (key 37).
    CreatePartitions = 37,
    /// `DeleteGroups` (key 42).
    DeleteGroups = 42,
    /// `IncrementalAlterConfigs` (key 44).
    IncrementalAlterConfigs = 44,
    /// `OffsetDelete` (key 47).
    OffsetDelete = 47,
    /// `DescribeCluster` (key 60).
    DescribeCluster = 60,
    /// `DescribeProducers` (key 61).
    DescribeProducers = 61,
    /// `DescribeTransactions` (key 65).
    DescribeTransactions = 65,
    /// `ListTransactions` (key 66).
    ListTransactions = 66,
    /// `ConsumerGroupHeartbeat` (key 68).
    ConsumerGroupHeartbeat = 68,
    /// `ConsumerGroupDescribe` (key 69).
    ConsumerGroupDescribe = 69,
    /// `StreamsGroupHeartbeat` (key 88).
    StreamsGroupHeartbeat = 88,
    /// `StreamsGroupDescribe` (key 89).
    StreamsGroupDescribe = 89,
}

impl ApiKey {
    /// Every API this crate implements, by key.
    pub const ALL: &'static [ApiKey] = &[
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::Metadata,
        ApiKey::OffsetCommit,
        ApiKey::OffsetFetch,
        ApiKey::FindCoordinator,
        ApiKey::JoinGroup,
        ApiKey::Heartbeat,
        ApiKey::LeaveGroup,
        ApiKey::SyncGroup,
        ApiKey::DescribeGroups,
        ApiKey::ListGroups,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::CreateTopics,
        ApiKey::DeleteTopics,
        ApiKey::DeleteRecords,
        ApiKey::InitProducerId,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::TxnOffsetCommit,
        ApiKey::DescribeConfigs,
        ApiKey::AlterConfigs,
        ApiKey::SaslAuthenticate,
        ApiKey::CreatePartitions,
        ApiKey::DeleteGroups,
        ApiKey::IncrementalAlterConfigs,
        ApiKey::OffsetDelete,
        ApiKey::DescribeCluster,
        ApiKey::DescribeProducers,
        ApiKey::DescribeTransactions,
        ApiKey::ListTransactions,
        ApiKey::ConsumerGroupHeartbeat,
        ApiKey::ConsumerGroupDescribe,
        ApiKey::StreamsGroupHeartbeat,
        ApiKey::StreamsGroupDescribe,
    ];

    /// The API for a wire key, if this crate implements it.
    pub fn from_i16(key: i16) -> Option<ApiKey> {
        Self::ALL.iter().copied().find(|k| *k as i16 == key)
    }

    /// The name Kafka uses for this API, as in the protocol guide.
    pub fn name(self) -> &'static str {
        match self {
            ApiKey::Produce => "Produce",
            ApiKey::Fetch => "Fetch",
            ApiKey::ListOffsets => "ListOffsets",
            ApiKey::Metadata => "Metadata",
            ApiKey::OffsetCommit => "OffsetCommit",
            ApiKey::OffsetFetch => "OffsetFetch",
            ApiKey::FindCoordinator => "FindCoordinator",
            ApiKey::JoinGroup => "JoinGroup",
            ApiKey::Heartbeat => "Heartbeat",
            ApiKey::LeaveGroup => "LeaveGroup",
            ApiKey::SyncGroup => "SyncGroup",
            ApiKey::DescribeGroups => "DescribeGroups",
            ApiKey::ListGroups => "ListGroups",
            ApiKey::SaslHandshake => "SaslHandshake",
            ApiKey::ApiVersions => "ApiVersions",
            ApiKey::CreateTopics => "CreateTopics",
            ApiKey::DeleteTopics => "DeleteTopics",
            ApiKey::DeleteRecords => "DeleteRecords",
            ApiKey::InitProducerId => "InitProducerId",
            ApiKey::AddPartitionsToTxn => "AddPartitionsToTxn",
            ApiKey::AddOffsetsToTxn => "AddOffsetsToTxn",
            ApiKey::EndTxn => "EndTxn",
            ApiKey::TxnOffsetCommit => "TxnOffsetCommit",
            ApiKey::DescribeConfigs => "DescribeConfigs",
            ApiKey::AlterConfigs => "AlterConfigs",
            ApiKey::SaslAuthenticate => "SaslAuthenticate",
            ApiKey::CreatePartitions => "CreatePartitions",
            ApiKey::DeleteGroups => "DeleteGroups",
            ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
            ApiKey::OffsetDelete => "OffsetDelete",
            ApiKey::DescribeCluster => "DescribeCluster",
            ApiKey::DescribeProducers => "DescribeProducers",
            ApiKey::DescribeTransactions => "DescribeTransactions",
            ApiKey::ListTransactions => "ListTransactions",
            ApiKey::ConsumerGroupHeartbeat => "ConsumerGroupHeartbeat",
            ApiKey::ConsumerGroupDescribe => "ConsumerGroupDescribe",
            ApiKey::StreamsGroupHeartbeat => "StreamsGroupHeartbeat",
            ApiKey::StreamsGroupDescribe => "StreamsGroupDescribe",
        }
    }

    /// The versions this crate can speak: the spec's valid range, without a version Kafka
    /// marks as unstable.
    pub fn supported_versions(self) -> (i16, i16) {
        match self {
            ApiKey::Produce => (3, 13),
            ApiKey::Fetch => (4, 18),
            ApiKey::ListOffsets => (1, 11),
            ApiKey::Metadata => (0, 13),
            ApiKey::OffsetCommit => (2, 10),
            ApiKey::OffsetFetch => (1, 10),
            ApiKey::FindCoordinator => (0, 6),
            ApiKey::JoinGroup => (0, 9),
            ApiKey::Heartbeat => (0, 4),
            ApiKey::LeaveGroup => (0, 5),
            ApiKey::SyncGroup => (0, 5),
            ApiKey::DescribeGroups => (0, 6),
            ApiKey::ListGroups => (0, 5),
            ApiKey::SaslHandshake => (0, 1),
            ApiKey::ApiVersions => (0, 5),
            ApiKey::CreateTopics => (2, 7),
            ApiKey::DeleteTopics => (1, 6),
            ApiKey::DeleteRecords => (0, 2),
            ApiKey::InitProducerId => (0, 5),
            ApiKey::AddPartitionsToTxn => (0, 5),
            ApiKey::AddOffsetsToTxn => (0, 4),
            ApiKey::EndTxn => (0, 5),
            ApiKey::TxnOffsetCommit => (0, 6),
            ApiKey::DescribeConfigs => (1, 4),
            ApiKey::AlterConfigs => (0, 2),
            ApiKey::SaslAuthenticate => (0, 2),
            ApiKey::CreatePartitions => (0, 3),
            ApiKey::DeleteGroups => (0, 3),
            ApiKey::IncrementalAlterConfigs => (0, 1),
            ApiKey::OffsetDelete => (0, 0),
            ApiKey::DescribeCluster => (0, 2),
            ApiKey::DescribeProducers => (0, 0),
            ApiKey::DescribeTransactions => (0, 0),
            ApiKey::ListTransactions => (0, 2),
            ApiKey::ConsumerGroupHeartbeat => (0, 1),
            ApiKey::ConsumerGroupDescribe => (0, 1),
            ApiKey::StreamsGroupHeartbeat => (0, 1),
            ApiKey::StreamsGroupDescribe => (0, 1),
        }
    }

    /// Request header version at `version` (2 when the request is flexible, else 1).
    pub fn request_header_version(self, version: i16) -> i16 {
        match self {
            ApiKey::Produce => {
                if version >= 9 {
                    2
                } else {
                    1
                }
            }
            ApiKey::Fetch => {
                if version >= 12 {
                    2
                } else {
                    1
                }
            }
            ApiKey::ListOffsets => {
                if version >= 6 {
                    2
                } else {
                    1
                }
            }
            ApiKey::Metadata => {
                if version >= 9 {
                    2
                } else {
                    1
                }
            }
            ApiKey::OffsetCommit => {
                if version >= 8 {
                    2
                } else {
                    1
                }
            }
            ApiKey::OffsetFetch => {
                if version >= 6 {
                    2
                } else {
                    1
                }
            }
            ApiKey::FindCoordinator => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::JoinGroup => {
                if version >= 6 {
                    2
                } else {
                    1
                }
            }
            ApiKey::Heartbeat => {
                if version >= 4 {
                    2
                } else {
                    1
                }
            }
            ApiKey::LeaveGroup => {
                if version >= 4 {
                    2
                } else {
                    1
                }
            }
            ApiKey::SyncGroup => {
                if version >= 4 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DescribeGroups => {
                if version >= 5 {
                    2
                } else {
                    1
                }
            }
            ApiKey::ListGroups => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::SaslHandshake => 1,
            ApiKey::ApiVersions => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::CreateTopics => {
                if version >= 5 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DeleteTopics => {
                if version >= 4 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DeleteRecords => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::InitProducerId => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::AddPartitionsToTxn => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::AddOffsetsToTxn => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::EndTxn => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::TxnOffsetCommit => {
                if version >= 3 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DescribeConfigs => {
                if version >= 4 {
                    2
                } else {
                    1
                }
            }
            ApiKey::AlterConfigs => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::SaslAuthenticate => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::CreatePartitions => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DeleteGroups => {
                if version >= 2 {
                    2
                } else {
                    1
                }
            }
            ApiKey::IncrementalAlterConfigs => {
                if version >= 1 {
                    2
                } else {
                    1
                }
            }
            ApiKey::OffsetDelete => 1,
            ApiKey::DescribeCluster => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DescribeProducers => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::DescribeTransactions => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::ListTransactions => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::ConsumerGroupHeartbeat => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::ConsumerGroupDescribe => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::StreamsGroupHeartbeat => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
            ApiKey::StreamsGroupDescribe => {
                if version >= 0 {
                    2
                } else {
                    1
                }
            }
        }
    }

    /// Response header version at `version` (1 when flexible, else 0; ApiVersions always 0).
    pub fn response_header_version(self, version: i16) -> i16 {
        match self {
            ApiKey::Produce => {
                if version >= 9 {
                    1
                } else {
                    0
                }
            }
            ApiKey::Fetch => {
                if version >= 12 {
                    1
                } else {
                    0
                }
            }
            ApiKey::ListOffsets => {
                if version >= 6 {
                    1
                } else {
                    0
                }
            }
            ApiKey::Metadata => {
                if version >= 9 {
                    1
                } else {
                    0
                }
            }
            ApiKey::OffsetCommit => {
                if version >= 8 {
                    1
                } else {
                    0
                }
            }
            ApiKey::OffsetFetch => {
                if version >= 6 {
                    1
                } else {
                    0
                }
            }
            ApiKey::FindCoordinator => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::JoinGroup => {
                if version >= 6 {
                    1
                } else {
                    0
                }
            }
            ApiKey::Heartbeat => {
                if version >= 4 {
                    1
                } else {
                    0
                }
            }
            ApiKey::LeaveGroup => {
                if version >= 4 {
                    1
                } else {
                    0
                }
            }
            ApiKey::SyncGroup => {
                if version >= 4 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DescribeGroups => {
                if version >= 5 {
                    1
                } else {
                    0
                }
            }
            ApiKey::ListGroups => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::SaslHandshake => {
                let _ = version;
                0
            }
            ApiKey::ApiVersions => {
                let _ = version;
                0
            }
            ApiKey::CreateTopics => {
                if version >= 5 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DeleteTopics => {
                if version >= 4 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DeleteRecords => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::InitProducerId => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::AddPartitionsToTxn => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::AddOffsetsToTxn => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::EndTxn => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::TxnOffsetCommit => {
                if version >= 3 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DescribeConfigs => {
                if version >= 4 {
                    1
                } else {
                    0
                }
            }
            ApiKey::AlterConfigs => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::SaslAuthenticate => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::CreatePartitions => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DeleteGroups => {
                if version >= 2 {
                    1
                } else {
                    0
                }
            }
            ApiKey::IncrementalAlterConfigs => {
                if version >= 1 {
                    1
                } else {
                    0
                }
            }
            ApiKey::OffsetDelete => {
                let _ = version;
                0
            }
            ApiKey::DescribeCluster => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DescribeProducers => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::DescribeTransactions => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::ListTransactions => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::ConsumerGroupHeartbeat => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::ConsumerGroupDescribe => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::StreamsGroupHeartbeat => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
            ApiKey::StreamsGroupDescribe => {
                if version >= 0 {
                    1
                } else {
                    0
                }
            }
        }
    }
}

macro_rules! impl_request {
    ($($req:ident => $resp:ident : $key:ident),* $(,)?) => {
        $(impl crate::protocol::Request for $req {
            const API_KEY: ApiKey = ApiKey::$key;
            type Response = $resp;
        })*
    };
}

impl_request! {
    ProduceRequest => ProduceResponse : Produce,
    FetchRequest => FetchResponse : Fetch,
    ListOffsetsRequest => ListOffsetsResponse : ListOffsets,
    MetadataRequest => MetadataResponse : Metadata,
    OffsetCommitRequest => OffsetCommitResponse : OffsetCommit,
    OffsetFetchRequest => OffsetFetchResponse : OffsetFetch,
    FindCoordinatorRequest => FindCoordinatorResponse : FindCoordinator,
    JoinGroupRequest => JoinGroupResponse : JoinGroup,
    HeartbeatRequest => HeartbeatResponse : Heartbeat,
    LeaveGroupRequest => LeaveGroupResponse : LeaveGroup,
    SyncGroupRequest => SyncGroupResponse : SyncGroup,
    DescribeGroupsRequest => DescribeGroupsResponse : DescribeGroups,
    ListGroupsRequest => ListGroupsResponse : ListGroups,
    SaslHandshakeRequest => SaslHandshakeResponse : SaslHandshake,
    ApiVersionsRequest => ApiVersionsResponse : ApiVersions,
    CreateTopicsRequest => CreateTopicsResponse : CreateTopics,
    DeleteTopicsRequest => DeleteTopicsResponse : DeleteTopics,
    DeleteRecordsRequest => DeleteRecordsResponse : DeleteRecords,
    InitProducerIdRequest => InitProducerIdResponse : InitProducerId,
    AddPartitionsToTxnRequest => AddPartitionsToTxnResponse : AddPartitionsToTxn,
    AddOffsetsToTxnRequest => AddOffsetsToTxnResponse : AddOffsetsToTxn,
    EndTxnRequest => EndTxnResponse : EndTxn,
    TxnOffsetCommitRequest => TxnOffsetCommitResponse : TxnOffsetCommit,
    DescribeConfigsRequest => DescribeConfigsResponse : DescribeConfigs,
    AlterConfigsRequest => AlterConfigsResponse : AlterConfigs,
    SaslAuthenticateRequest => SaslAuthenticateResponse : SaslAuthenticate,
    CreatePartitionsRequest => CreatePartitionsResponse : CreatePartitions,
    DeleteGroupsRequest => DeleteGroupsResponse : DeleteGroups,
    IncrementalAlterConfigsRequest => IncrementalAlterConfigsResponse : IncrementalAlterConfigs,
    OffsetDeleteRequest => OffsetDeleteResponse : OffsetDelete,
    DescribeClusterRequest => DescribeClusterResponse : DescribeCluster,
    DescribeProducersRequest => DescribeProducersResponse : DescribeProducers,
    DescribeTransactionsRequest => DescribeTransactionsResponse : DescribeTransactions,
    ListTransactionsRequest => ListTransactionsResponse : ListTransactions,
    ConsumerGroupHeartbeatRequest => ConsumerGroupHeartbeatResponse : ConsumerGroupHeartbeat,
    ConsumerGroupDescribeRequest => ConsumerGroupDescribeResponse : ConsumerGroupDescribe,
    StreamsGroupHeartbeatRequest => StreamsGroupHeartbeatResponse : StreamsGroupHeartbeat,
    StreamsGroupDescribeRequest => StreamsGroupDescribeResponse : StreamsGroupDescribe,
}

/// Decode the body of any response this crate implements (fuzzing, test brokers, tools).
pub fn decode_response_body(
    api: ApiKey,
    version: i16,
    buf: &mut crate::protocol::wire::ReadBuf,
) -> Result<Box<dyn std::fmt::Debug>, crate::protocol::wire::DecodeError> {
    use crate::protocol::wire::Decode;
    Ok(match api {
        ApiKey::Produce => Box::new(ProduceResponse::decode(buf, version)?),
        ApiKey::Fetch => Box::new(FetchResponse::decode(buf, version)?),
        ApiKey::ListOffsets => Box::new(ListOffsetsResponse::decode(buf, version)?),
        ApiKey::Metadata => Box::new(MetadataResponse::decode(buf, version)?),
        ApiKey::OffsetCommit => Box::new(OffsetCommitResponse::decode(buf, version)?),
        ApiKey::OffsetFetch => Box::new(OffsetFetchResponse::decode(buf, version)?),
        ApiKey::FindCoordinator => Box::new(FindCoordinatorResponse::decode(buf, version)?),
        ApiKey::JoinGroup => Box::new(JoinGroupResponse::decode(buf, version)?),
        ApiKey::Heartbeat => Box::new(HeartbeatResponse::decode(buf, version)?),
        ApiKey::LeaveGroup => Box::new(LeaveGroupResponse::decode(buf, version)?),
        ApiKey::SyncGroup => Box::new(SyncGroupResponse::decode(buf, version)?),
        ApiKey::DescribeGroups => Box::new(DescribeGroupsResponse::decode(buf, version)?),
        ApiKey::ListGroups => Box::new(ListGroupsResponse::decode(buf, version)?),
        ApiKey::SaslHandshake => Box::new(SaslHandshakeResponse::decode(buf, version)?),
        ApiKey::ApiVersions => Box::new(ApiVersionsResponse::decode(buf, version)?),
        ApiKey::CreateTopics => Box::new(CreateTopicsResponse::decode(buf, version)?),
        ApiKey::DeleteTopics => Box::new(DeleteTopicsResponse::decode(buf, version)?),
        ApiKey::DeleteRecords => Box::new(DeleteRecordsResponse::decode(buf, version)?),
        ApiKey::InitProducerId => Box::new(InitProducerIdResponse::decode(buf, version)?),
        ApiKey::AddPartitionsToTxn => Box::new(AddPartitionsToTxnResponse::decode(buf, version)?),
        ApiKey::AddOffsetsToTxn => Box::new(AddOffsetsToTxnResponse::decode(buf, version)?),
        ApiKey::EndTxn => Box::new(EndTxnResponse::decode(buf, version)?),
        ApiKey::TxnOffsetCommit => Box::new(TxnOffsetCommitResponse::decode(buf, version)?),
        ApiKey::DescribeConfigs => Box::new(DescribeConfigsResponse::decode(buf, version)?),
        ApiKey::AlterConfigs => Box::new(AlterConfigsResponse::decode(buf, version)?),
        ApiKey::SaslAuthenticate => Box::new(SaslAuthenticateResponse::decode(buf, version)?),
        ApiKey::CreatePartitions => Box::new(CreatePartitionsResponse::decode(buf, version)?),
        ApiKey::DeleteGroups => Box::new(DeleteGroupsResponse::decode(buf, version)?),
        ApiKey::IncrementalAlterConfigs => {
            Box::new(IncrementalAlterConfigsResponse::decode(buf, version)?)
        }
        ApiKey::OffsetDelete => Box::new(OffsetDeleteResponse::decode(buf, version)?),
        ApiKey::DescribeCluster => Box::new(DescribeClusterResponse::decode(buf, version)?),
        ApiKey::DescribeProducers => Box::new(DescribeProducersResponse::decode(buf, version)?),
        ApiKey::DescribeTransactions => {
            Box::new(DescribeTransactionsResponse::decode(buf, version)?)
        }
        ApiKey::ListTransactions => Box::new(ListTransactionsResponse::decode(buf, version)?),
        ApiKey::ConsumerGroupHeartbeat => {
            Box::new(ConsumerGroupHeartbeatResponse::decode(buf, version)?)
        }
        ApiKey::ConsumerGroupDescribe => {
            Box::new(ConsumerGroupDescribeResponse::decode(buf, version)?)
        }
        ApiKey::StreamsGroupHeartbeat => {
            Box::new(StreamsGroupHeartbeatResponse::decode(buf, version)?)
        }
        ApiKey::StreamsGroupDescribe => {
            Box::new(StreamsGroupDescribeResponse::decode(buf, version)?)
        }
    })
}

impl crate::protocol::Response for ProduceResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for FetchResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for ListOffsetsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for MetadataResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for OffsetCommitResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for OffsetFetchResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for FindCoordinatorResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for JoinGroupResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for HeartbeatResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for LeaveGroupResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for SyncGroupResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DescribeGroupsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for ListGroupsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for SaslHandshakeResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        None
    }
}
impl crate::protocol::Response for ApiVersionsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for CreateTopicsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DeleteTopicsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DeleteRecordsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for InitProducerIdResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for AddPartitionsToTxnResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for AddOffsetsToTxnResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for EndTxnResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for TxnOffsetCommitResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DescribeConfigsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for AlterConfigsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for SaslAuthenticateResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        None
    }
}
impl crate::protocol::Response for CreatePartitionsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DeleteGroupsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for IncrementalAlterConfigsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for OffsetDeleteResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DescribeClusterResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DescribeProducersResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for DescribeTransactionsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for ListTransactionsResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for ConsumerGroupHeartbeatResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for ConsumerGroupDescribeResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for StreamsGroupHeartbeatResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}
impl crate::protocol::Response for StreamsGroupDescribeResponse {
    fn throttle_time_ms(&self) -> Option<i32> {
        Some(self.throttle_time_ms)
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::protocol::wire::{Decode, Encode, ReadBuf};
    use bytes::BytesMut;

    fn check<T: Encode + Decode + PartialEq + std::fmt::Debug>(value: T, version: i16) {
        let mut buf = BytesMut::new();
        value
            .encode(&mut buf, version)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut read = ReadBuf::new(buf.freeze());
        let back = T::decode(&mut read, version).unwrap_or_else(|e| panic!("v{version}: {e}"));
        assert_eq!(read.remaining(), 0, "v{version}: bytes left over");
        assert_eq!(back, value, "v{version}");
    }

    /// Every field set, every message, every version of Kafka's spec: decode(encode(x)) == x.
    #[test]
    fn every_message_at_every_version() {
        for v in 3..=13 {
            check(ProduceRequest::example(v), v);
        }
        for v in 3..=13 {
            check(ProduceResponse::example(v), v);
        }
        for v in 4..=18 {
            check(FetchRequest::example(v), v);
        }
        for v in 4..=18 {
            check(FetchResponse::example(v), v);
        }
        for v in 1..=11 {
            check(ListOffsetsRequest::example(v), v);
        }
        for v in 1..=11 {
            check(ListOffsetsResponse::example(v), v);
        }
        for v in 0..=13 {
            check(MetadataRequest::example(v), v);
        }
        for v in 0..=13 {
            check(MetadataResponse::example(v), v);
        }
        for v in 2..=10 {
            check(OffsetCommitRequest::example(v), v);
        }
        for v in 2..=10 {
            check(OffsetCommitResponse::example(v), v);
        }
        for v in 1..=10 {
            check(OffsetFetchRequest::example(v), v);
        }
        for v in 1..=10 {
            check(OffsetFetchResponse::example(v), v);
        }
        for v in 0..=6 {
            check(FindCoordinatorRequest::example(v), v);
        }
        for v in 0..=6 {
            check(FindCoordinatorResponse::example(v), v);
        }
        for v in 0..=9 {
            check(JoinGroupRequest::example(v), v);
        }
        for v in 0..=9 {
            check(JoinGroupResponse::example(v), v);
        }
        for v in 0..=4 {
            check(HeartbeatRequest::example(v), v);
        }
        for v in 0..=4 {
            check(HeartbeatResponse::example(v), v);
        }
        for v in 0..=5 {
            check(LeaveGroupRequest::example(v), v);
        }
        for v in 0..=5 {
            check(LeaveGroupResponse::example(v), v);
        }
        for v in 0..=5 {
            check(SyncGroupRequest::example(v), v);
        }
        for v in 0..=5 {
            check(SyncGroupResponse::example(v), v);
        }
        for v in 0..=6 {
            check(DescribeGroupsRequest::example(v), v);
        }
        for v in 0..=6 {
            check(DescribeGroupsResponse::example(v), v);
        }
        for v in 0..=5 {
            check(ListGroupsRequest::example(v), v);
        }
        for v in 0..=5 {
            check(ListGroupsResponse::example(v), v);
        }
        for v in 0..=1 {
            check(SaslHandshakeRequest::example(v), v);
        }
        for v in 0..=1 {
            check(SaslHandshakeResponse::example(v), v);
        }
        for v in 0..=5 {
            check(ApiVersionsRequest::example(v), v);
        }
        for v in 0..=5 {
            check(ApiVersionsResponse::example(v), v);
        }
        for v in 2..=7 {
            check(CreateTopicsRequest::example(v), v);
        }
        for v in 2..=7 {
            check(CreateTopicsResponse::example(v), v);
        }
        for v in 1..=6 {
            check(DeleteTopicsRequest::example(v), v);
        }
        for v in 1..=6 {
            check(DeleteTopicsResponse::example(v), v);
        }
        for v in 0..=2 {
            check(DeleteRecordsRequest::example(v), v);
        }
        for v in 0..=2 {
            check(DeleteRecordsResponse::example(v), v);
        }
        for v in 0..=6 {
            check(InitProducerIdRequest::example(v), v);
        }
        for v in 0..=6 {
            check(InitProducerIdResponse::example(v), v);
        }
        for v in 0..=5 {
            check(AddPartitionsToTxnRequest::example(v), v);
        }
        for v in 0..=5 {
            check(AddPartitionsToTxnResponse::example(v), v);
        }
        for v in 0..=4 {
            check(AddOffsetsToTxnRequest::example(v), v);
        }
        for v in 0..=4 {
            check(AddOffsetsToTxnResponse::example(v), v);
        }
        for v in 0..=5 {
            check(EndTxnRequest::example(v), v);
        }
        for v in 0..=5 {
            check(EndTxnResponse::example(v), v);
        }
        for v in 0..=6 {
            check(TxnOffsetCommitRequest::example(v), v);
        }
        for v in 0..=6 {
            check(TxnOffsetCommitResponse::example(v), v);
        }
        for v in 1..=4 {
            check(DescribeConfigsRequest::example(v), v);
        }
        for v in 1..=4 {
            check(DescribeConfigsResponse::example(v), v);
        }
        for v in 0..=2 {
            check(AlterConfigsRequest::example(v), v);
        }
        for v in 0..=2 {
            check(AlterConfigsResponse::example(v), v);
        }
        for v in 0..=2 {
            check(SaslAuthenticateRequest::example(v), v);
        }
        for v in 0..=2 {
            check(SaslAuthenticateResponse::example(v), v);
        }
        for v in 0..=3 {
            check(CreatePartitionsRequest::example(v), v);
        }
        for v in 0..=3 {
            check(CreatePartitionsResponse::example(v), v);
        }
        for v in 0..=3 {
            check(DeleteGroupsRequest::example(v), v);
        }
        for v in 0..=3 {
            check(DeleteGroupsResponse::example(v), v);
        }
        for v in 0..=1 {
            check(IncrementalAlterConfigsRequest::example(v), v);
        }
        for v in 0..=1 {
            check(IncrementalAlterConfigsResponse::example(v), v);
        }
        for v in 0..=0 {
            check(OffsetDeleteRequest::example(v), v);
        }
        for v in 0..=0 {
            check(OffsetDeleteResponse::example(v), v);
        }
        for v in 0..=2 {
            check(DescribeClusterRequest::example(v), v);
        }
        for v in 0..=2 {
            check(DescribeClusterResponse::example(v), v);
        }
        for v in 0..=0 {
            check(DescribeProducersRequest::example(v), v);
        }
        for v in 0..=0 {
            check(DescribeProducersResponse::example(v), v);
        }
        for v in 0..=0 {
            check(DescribeTransactionsRequest::example(v), v);
        }
        for v in 0..=0 {
            check(DescribeTransactionsResponse::example(v), v);
        }
        for v in 0..=2 {
            check(ListTransactionsRequest::example(v), v);
        }
        for v in 0..=2 {
            check(ListTransactionsResponse::example(v), v);
        }
        for v in 0..=1 {
            check(ConsumerGroupHeartbeatRequest::example(v), v);
        }
        for v in 0..=1 {
            check(ConsumerGroupHeartbeatResponse::example(v), v);
        }
        for v in 0..=1 {
            check(ConsumerGroupDescribeRequest::example(v), v);
        }
        for v in 0..=1 {
            check(ConsumerGroupDescribeResponse::example(v), v);
        }
        for v in 0..=1 {
            check(StreamsGroupHeartbeatRequest::example(v), v);
        }
        for v in 0..=1 {
            check(StreamsGroupHeartbeatResponse::example(v), v);
        }
        for v in 0..=1 {
            check(StreamsGroupDescribeRequest::example(v), v);
        }
        for v in 0..=1 {
            check(StreamsGroupDescribeResponse::example(v), v);
        }
        for v in 1..=2 {
            check(RequestHeader::example(v), v);
        }
        for v in 0..=1 {
            check(ResponseHeader::example(v), v);
        }
    }

    fn stable<T: Encode + Decode + PartialEq + std::fmt::Debug>(data: &[u8], version: i16) {
        let Ok(first) = T::decode(
            &mut ReadBuf::new(bytes::Bytes::copy_from_slice(data)),
            version,
        ) else {
            return;
        };
        let mut buf = BytesMut::new();
        // The decoder is lenient where the encoder is strict (e.g. null in a field that is only
        // nullable in later versions); such values are not re-encodable by design.
        if first.encode(&mut buf, version).is_err() {
            return;
        }
        let second =
            T::decode(&mut ReadBuf::new(buf.freeze()), version).expect("re-encoded value decodes");
        assert_eq!(first, second);
    }

    proptest::proptest! {
        /// Random bytes never panic a decoder, and whatever decodes re-encodes to bytes that
        /// decode to the same value (requests and responses of every API).
        #[test]
        fn decode_encode_decode_is_stable(api in 0usize..ApiKey::ALL.len(), v in 0i16..20, data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let api = ApiKey::ALL[api];
            let (lo, hi) = api.supported_versions();
            let version = lo + v % (hi - lo + 1);
            match api {
                ApiKey::Produce => { stable::<ProduceRequest>(&data, version); stable::<ProduceResponse>(&data, version); }
                ApiKey::Fetch => { stable::<FetchRequest>(&data, version); stable::<FetchResponse>(&data, version); }
                ApiKey::ListOffsets => { stable::<ListOffsetsRequest>(&data, version); stable::<ListOffsetsResponse>(&data, version); }
                ApiKey::Metadata => { stable::<MetadataRequest>(&data, version); stable::<MetadataResponse>(&data, version); }
                ApiKey::OffsetCommit => { stable::<OffsetCommitRequest>(&data, version); stable::<OffsetCommitResponse>(&data, version); }
                ApiKey::OffsetFetch => { stable::<OffsetFetchRequest>(&data, version); stable::<OffsetFetchResponse>(&data, version); }
                ApiKey::FindCoordinator => { stable::<FindCoordinatorRequest>(&data, version); stable::<FindCoordinatorResponse>(&data, version); }
                ApiKey::JoinGroup => { stable::<JoinGroupRequest>(&data, version); stable::<JoinGroupResponse>(&data, version); }
                ApiKey::Heartbeat => { stable::<HeartbeatRequest>(&data, version); stable::<HeartbeatResponse>(&data, version); }
                ApiKey::LeaveGroup => { stable::<LeaveGroupRequest>(&data, version); stable::<LeaveGroupResponse>(&data, version); }
                ApiKey::SyncGroup => { stable::<SyncGroupRequest>(&data, version); stable::<SyncGroupResponse>(&data, version); }
                ApiKey::DescribeGroups => { stable::<DescribeGroupsRequest>(&data, version); stable::<DescribeGroupsResponse>(&data, version); }
                ApiKey::ListGroups => { stable::<ListGroupsRequest>(&data, version); stable::<ListGroupsResponse>(&data, version); }
                ApiKey::SaslHandshake => { stable::<SaslHandshakeRequest>(&data, version); stable::<SaslHandshakeResponse>(&data, version); }
                ApiKey::ApiVersions => { stable::<ApiVersionsRequest>(&data, version); stable::<ApiVersionsResponse>(&data, version); }
                ApiKey::CreateTopics => { stable::<CreateTopicsRequest>(&data, version); stable::<CreateTopicsResponse>(&data, version); }
                ApiKey::DeleteTopics => { stable::<DeleteTopicsRequest>(&data, version); stable::<DeleteTopicsResponse>(&data, version); }
                ApiKey::DeleteRecords => { stable::<DeleteRecordsRequest>(&data, version); stable::<DeleteRecordsResponse>(&data, version); }
                ApiKey::InitProducerId => { stable::<InitProducerIdRequest>(&data, version); stable::<InitProducerIdResponse>(&data, version); }
                ApiKey::AddPartitionsToTxn => { stable::<AddPartitionsToTxnRequest>(&data, version); stable::<AddPartitionsToTxnResponse>(&data, version); }
                ApiKey::AddOffsetsToTxn => { stable::<AddOffsetsToTxnRequest>(&data, version); stable::<AddOffsetsToTxnResponse>(&data, version); }
                ApiKey::EndTxn => { stable::<EndTxnRequest>(&data, version); stable::<EndTxnResponse>(&data, version); }
                ApiKey::TxnOffsetCommit => { stable::<TxnOffsetCommitRequest>(&data, version); stable::<TxnOffsetCommitResponse>(&data, version); }
                ApiKey::DescribeConfigs => { stable::<DescribeConfigsRequest>(&data, version); stable::<DescribeConfigsResponse>(&data, version); }
                ApiKey::AlterConfigs => { stable::<AlterConfigsRequest>(&data, version); stable::<AlterConfigsResponse>(&data, version); }
                ApiKey::SaslAuthenticate => { stable::<SaslAuthenticateRequest>(&data, version); stable::<SaslAuthenticateResponse>(&data, version); }
                ApiKey::CreatePartitions => { stable::<CreatePartitionsRequest>(&data, version); stable::<CreatePartitionsResponse>(&data, version); }
                ApiKey::DeleteGroups => { stable::<DeleteGroupsRequest>(&data, version); stable::<DeleteGroupsResponse>(&data, version); }
                ApiKey::IncrementalAlterConfigs => { stable::<IncrementalAlterConfigsRequest>(&data, version); stable::<IncrementalAlterConfigsResponse>(&data, version); }
                ApiKey::OffsetDelete => { stable::<OffsetDeleteRequest>(&data, version); stable::<OffsetDeleteResponse>(&data, version); }
                ApiKey::DescribeCluster => { stable::<DescribeClusterRequest>(&data, version); stable::<DescribeClusterResponse>(&data, version); }
                ApiKey::DescribeProducers => { stable::<DescribeProducersRequest>(&data, version); stable::<DescribeProducersResponse>(&data, version); }
                ApiKey::DescribeTransactions => { stable::<DescribeTransactionsRequest>(&data, version); stable::<DescribeTransactionsResponse>(&data, version); }
                ApiKey::ListTransactions => { stable::<ListTransactionsRequest>(&data, version); stable::<ListTransactionsResponse>(&data, version); }
                ApiKey::ConsumerGroupHeartbeat => { stable::<ConsumerGroupHeartbeatRequest>(&data, version); stable::<ConsumerGroupHeartbeatResponse>(&data, version); }
                ApiKey::ConsumerGroupDescribe => { stable::<ConsumerGroupDescribeRequest>(&data, version); stable::<ConsumerGroupDescribeResponse>(&data, version); }
                ApiKey::StreamsGroupHeartbeat => { stable::<StreamsGroupHeartbeatRequest>(&data, version); stable::<StreamsGroupHeartbeatResponse>(&data, version); }
                ApiKey::StreamsGroupDescribe => { stable::<StreamsGroupDescribeRequest>(&data, version); stable::<StreamsGroupDescribeResponse>(&data, version); }
            }
        }
    }
}
