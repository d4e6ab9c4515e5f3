//! Kafka Streams' generated names: one index shared by processors and stores, in the order
//! the DSL calls ask for them (`InternalStreamsBuilder.newProcessorName`/`newStoreName`).

/// `KSTREAM-SOURCE-`.
pub(crate) const SOURCE: &str = "KSTREAM-SOURCE-";
/// `KSTREAM-SINK-`.
pub(crate) const SINK: &str = "KSTREAM-SINK-";
/// `KSTREAM-FILTER-` (filter and filterNot).
pub(crate) const FILTER: &str = "KSTREAM-FILTER-";
/// `KSTREAM-MAP-`.
pub(crate) const MAP: &str = "KSTREAM-MAP-";
/// `KSTREAM-MAPVALUES-`.
pub(crate) const MAP_VALUES: &str = "KSTREAM-MAPVALUES-";
/// `KSTREAM-FLATMAP-`.
pub(crate) const FLAT_MAP: &str = "KSTREAM-FLATMAP-";
/// `KSTREAM-FLATMAPVALUES-`.
pub(crate) const FLAT_MAP_VALUES: &str = "KSTREAM-FLATMAPVALUES-";
/// `KSTREAM-KEY-SELECT-` (selectKey and groupBy).
pub(crate) const KEY_SELECT: &str = "KSTREAM-KEY-SELECT-";
/// `KSTREAM-PEEK-`.
pub(crate) const PEEK: &str = "KSTREAM-PEEK-";
/// `KSTREAM-FOREACH-`.
pub(crate) const FOREACH: &str = "KSTREAM-FOREACH-";
/// `KSTREAM-PRINTER-`.
pub(crate) const PRINTER: &str = "KSTREAM-PRINTER-";
/// `KSTREAM-MERGE-`.
pub(crate) const MERGE: &str = "KSTREAM-MERGE-";
/// `KSTREAM-BRANCH-` (split).
pub(crate) const BRANCH: &str = "KSTREAM-BRANCH-";
/// `KSTREAM-REPARTITION-`.
pub(crate) const REPARTITION: &str = "KSTREAM-REPARTITION-";
/// `KSTREAM-TOTABLE-`.
pub(crate) const TO_TABLE: &str = "KSTREAM-TOTABLE-";
/// `KSTREAM-PROCESSOR-`.
pub(crate) const PROCESSOR: &str = "KSTREAM-PROCESSOR-";
/// `KSTREAM-PROCESSVALUES-`.
pub(crate) const PROCESS_VALUES: &str = "KSTREAM-PROCESSVALUES-";
/// `KSTREAM-AGGREGATE-` (aggregate and count).
pub(crate) const AGGREGATE: &str = "KSTREAM-AGGREGATE-";
/// `KSTREAM-REDUCE-`.
pub(crate) const REDUCE: &str = "KSTREAM-REDUCE-";
/// `KSTREAM-WINDOWED-` (a stream-stream join's window-store writer).
pub(crate) const WINDOWED: &str = "KSTREAM-WINDOWED-";
/// `KSTREAM-JOINTHIS-`.
pub(crate) const JOIN_THIS: &str = "KSTREAM-JOINTHIS-";
/// `KSTREAM-JOINOTHER-`.
pub(crate) const JOIN_OTHER: &str = "KSTREAM-JOINOTHER-";
/// `KSTREAM-OUTERTHIS-`.
pub(crate) const OUTER_THIS: &str = "KSTREAM-OUTERTHIS-";
/// `KSTREAM-OUTEROTHER-`.
pub(crate) const OUTER_OTHER: &str = "KSTREAM-OUTEROTHER-";
/// `KSTREAM-OUTERSHARED-` (the outer-join store).
pub(crate) const OUTER_SHARED: &str = "KSTREAM-OUTERSHARED-";
/// `KSTREAM-JOIN-` (stream-table and stream-global-table joins).
pub(crate) const JOIN: &str = "KSTREAM-JOIN-";
/// `KSTREAM-LEFTJOIN-`.
pub(crate) const LEFT_JOIN: &str = "KSTREAM-LEFTJOIN-";
/// `KTABLE-JOINTHIS-`.
pub(crate) const KTABLE_JOIN_THIS: &str = "KTABLE-JOINTHIS-";
/// `KTABLE-JOINOTHER-`.
pub(crate) const KTABLE_JOIN_OTHER: &str = "KTABLE-JOINOTHER-";
/// `KTABLE-MERGE-`.
pub(crate) const KTABLE_MERGE: &str = "KTABLE-MERGE-";
/// `KTABLE-SOURCE-`.
pub(crate) const KTABLE_SOURCE: &str = "KTABLE-SOURCE-";
/// `KTABLE-TOSTREAM-`.
pub(crate) const KTABLE_TO_STREAM: &str = "KTABLE-TOSTREAM-";
/// `KTABLE-FILTER-` (a table's filter and filterNot).
pub(crate) const KTABLE_FILTER: &str = "KTABLE-FILTER-";
/// `KTABLE-MAPVALUES-`.
pub(crate) const KTABLE_MAP_VALUES: &str = "KTABLE-MAPVALUES-";
/// `KTABLE-SELECT-` (a table's groupBy).
pub(crate) const KTABLE_SELECT: &str = "KTABLE-SELECT-";
/// `KTABLE-AGGREGATE-` (a grouped table's aggregate and count; also its stores' prefix).
pub(crate) const KTABLE_AGGREGATE: &str = "KTABLE-AGGREGATE-";
/// `KTABLE-REDUCE-`.
pub(crate) const KTABLE_REDUCE: &str = "KTABLE-REDUCE-";
/// `KTABLE-SUPPRESS-` (the suppress processor; also its buffer store's prefix).
pub(crate) const KTABLE_SUPPRESS: &str = "KTABLE-SUPPRESS-";
/// What a store name adds after its prefix (`KTableImpl.STATE_STORE_NAME`).
pub(crate) const STATE_STORE: &str = "STATE-STORE-";
/// The suffix of repartition topics.
pub(crate) const REPARTITION_TOPIC_SUFFIX: &str = "-repartition";
/// The suffix of a named table's source (`-source`).
pub(crate) const TABLE_SOURCE_SUFFIX: &str = "-source";

/// The index counter.
#[derive(Debug, Default)]
pub(crate) struct NameGenerator {
    index: u64,
}

impl NameGenerator {
    /// `<prefix><index, 10 digits>` (Kafka's `newProcessorName`).
    pub fn processor(&mut self, prefix: &str) -> String {
        let n = format!("{prefix}{:010}", self.index);
        self.index += 1;
        n
    }

    /// `<prefix>STATE-STORE-<index, 10 digits>` (Kafka's `newStoreName`).
    pub fn store(&mut self, prefix: &str) -> String {
        let n = format!("{prefix}{STATE_STORE}{:010}", self.index);
        self.index += 1;
        n
    }
}

/// Whether `name` is one Kafka generated (`KSTREAM…-<10 digits>`): such repartition topics
/// keep generated node names.
pub(crate) fn is_generated(name: &str) -> bool {
    let Some(digits) = name.len().checked_sub(10).and_then(|i| name.get(i..)) else {
        return false;
    };
    name.starts_with("KSTREAM")
        && digits.bytes().all(|b| b.is_ascii_digit())
        && name[..name.len() - 10].ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_share_one_index_as_in_kafka() {
        let mut g = NameGenerator::default();
        assert_eq!(g.processor(SOURCE), "KSTREAM-SOURCE-0000000000");
        assert_eq!(g.processor(MAP_VALUES), "KSTREAM-MAPVALUES-0000000001");
        assert_eq!(
            g.store(AGGREGATE),
            "KSTREAM-AGGREGATE-STATE-STORE-0000000002"
        );
        assert!(is_generated("KSTREAM-AGGREGATE-STATE-STORE-0000000002"));
        assert!(is_generated("KSTREAM-REPARTITION-0000000012"));
        assert!(!is_generated("counts-store"));
        assert!(!is_generated("KSTREAM-X"));
    }
}
