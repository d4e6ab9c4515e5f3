//! Where each request goes, declared once per API (as the Java client's `NetworkClient` users
//! and franz-go's request marker interfaces do), so no call site picks a broker by hand.

use super::ApiKey;

/// The broker a request must be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Any reachable broker (metadata, cluster-wide lookups).
    AnyBroker,
    /// The controller (KRaft brokers forward controller requests, so any broker also works).
    Controller,
    /// The leader of the partition(s) in the request.
    PartitionLeader,
    /// The coordinator of the group named in the request.
    GroupCoordinator,
    /// The coordinator of the `transactional.id` in the request.
    TransactionCoordinator,
    /// Each broker in turn (the request asks about what that broker holds).
    EachBroker,
    /// The broker the connection is being set up with (handshake and authentication).
    Connection,
}

/// The route of `api`.
pub fn route(api: ApiKey) -> Route {
    match api {
        ApiKey::Produce | ApiKey::Fetch | ApiKey::ListOffsets | ApiKey::DeleteRecords => {
            Route::PartitionLeader
        }
        ApiKey::DescribeProducers => Route::PartitionLeader,
        ApiKey::Metadata
        | ApiKey::FindCoordinator
        | ApiKey::DescribeCluster
        | ApiKey::DescribeConfigs
        | ApiKey::InitProducerId => Route::AnyBroker,
        ApiKey::CreateTopics
        | ApiKey::DeleteTopics
        | ApiKey::CreatePartitions
        | ApiKey::AlterConfigs
        | ApiKey::IncrementalAlterConfigs => Route::Controller,
        ApiKey::OffsetCommit
        | ApiKey::OffsetFetch
        | ApiKey::JoinGroup
        | ApiKey::Heartbeat
        | ApiKey::LeaveGroup
        | ApiKey::SyncGroup
        | ApiKey::DescribeGroups
        | ApiKey::DeleteGroups
        | ApiKey::OffsetDelete
        | ApiKey::TxnOffsetCommit
        | ApiKey::ConsumerGroupHeartbeat
        | ApiKey::ConsumerGroupDescribe
        | ApiKey::StreamsGroupHeartbeat
        | ApiKey::StreamsGroupDescribe => Route::GroupCoordinator,
        ApiKey::AddPartitionsToTxn
        | ApiKey::AddOffsetsToTxn
        | ApiKey::EndTxn
        | ApiKey::DescribeTransactions => Route::TransactionCoordinator,
        ApiKey::ListGroups | ApiKey::ListTransactions => Route::EachBroker,
        ApiKey::SaslHandshake | ApiKey::ApiVersions | ApiKey::SaslAuthenticate => Route::Connection,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinator_apis_go_to_their_coordinator() {
        assert_eq!(route(ApiKey::Heartbeat), Route::GroupCoordinator);
        assert_eq!(route(ApiKey::TxnOffsetCommit), Route::GroupCoordinator);
        assert_eq!(route(ApiKey::EndTxn), Route::TransactionCoordinator);
        assert_eq!(route(ApiKey::Produce), Route::PartitionLeader);
        assert_eq!(route(ApiKey::CreateTopics), Route::Controller);
    }
}
