//! Task assignment over the classic consumer-group protocol (Kafka's `StreamsPartitionAssignor`).
