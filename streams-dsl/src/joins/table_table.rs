//! The processors of a table-table join (Kafka's `KTableKTableInnerJoin`, `…LeftJoin`,
//! `…RightJoin`, `…OuterJoin`): each side's update is joined with the other side's current
//! value (its value getter) into a `Change` of the joined table, at the later of the two
//! timestamps; [`side_output`] decides what each update produces.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use super::value_getter::ValueGetterRef;
use crate::change::Change;

/// Which processor of which join a side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SideRule {
    /// Either side of an inner join: a row only with both values.
    Inner,
    /// The left side of a left join: every left row.
    LeftOfLeft,
    /// The right side of a left join: rows whose left value exists.
    RightOfLeft,
    /// Either side of an outer join: rows with either value.
    Outer,
}

/// What one update produces: `None` nothing, else whether to compute the new and the old
/// joined value (from this side's new/old and the other side's value) and the output
/// timestamp. `other_ts` is the other side's timestamp when it has a value.
pub(crate) fn side_output(
    rule: SideRule,
    has_new: bool,
    has_old: bool,
    other_ts: Option<i64>,
    record_ts: i64,
    send_old: bool,
) -> Option<(bool, bool, i64)> {
    match rule {
        SideRule::Inner => {
            let ts = record_ts.max(other_ts?);
            Some((has_new, send_old && has_old, ts))
        }
        SideRule::LeftOfLeft => {
            if other_ts.is_none() && !has_new && !has_old {
                return None;
            }
            let ts = record_ts.max(other_ts.unwrap_or(-1));
            Some((has_new, send_old && has_old, ts))
        }
        SideRule::RightOfLeft => {
            let ts = record_ts.max(other_ts?);
            Some((true, send_old, ts))
        }
        SideRule::Outer => {
            if other_ts.is_none() && !has_new && !has_old {
                return None;
            }
            let ts = other_ts.map_or(record_ts, |o| record_ts.max(o));
            let other = other_ts.is_some();
            Some((other || has_new, send_old && (other || has_old), ts))
        }
    }
}

/// The user's joiner from one side: this side's value, the other's; `None` for a null result.
pub(crate) type TableSideJoiner<K, VThis, VOther, VOut> =
    Arc<dyn Fn(&K, Option<&VThis>, Option<&VOther>) -> Option<VOut> + Send + Sync>;

/// `KTABLE-JOINTHIS-…`/`KTABLE-JOINOTHER-…`.
pub(crate) struct TableJoinSide<K, VThis, VOther, VOut> {
    pub getter: ValueGetterRef<K, VOther>,
    pub rule: SideRule,
    pub joiner: TableSideJoiner<K, VThis, VOther, VOut>,
    pub send_old_values: bool,
    /// This side reads a versioned table (Kafka's `setUseVersionedSemantics`): its
    /// out-of-order updates (not the key's latest) are skipped (KIP-914).
    pub versioned_semantics: bool,
}

impl<K, VThis, VOther, VOut> Processor<K, Change<VThis>, K, Change<VOut>>
    for TableJoinSide<K, VThis, VOther, VOut>
where
    K: Clone + 'static,
    VThis: 'static,
    VOther: 'static,
    VOut: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<VOut>>,
        record: Record<K, Change<VThis>>,
    ) -> Result<(), BoxError> {
        if self.versioned_semantics && !record.value.is_latest {
            return Ok(());
        }
        let other = self.getter.get(&mut ctx.store_access(), &record.key)?;
        let change = &record.value;
        let Some((new, old, ts)) = side_output(
            self.rule,
            change.new.is_some(),
            change.old.is_some(),
            other.as_ref().map(|o| o.timestamp),
            record.timestamp,
            self.send_old_values,
        ) else {
            return Ok(());
        };
        let other_value = other.as_ref().map(|o| &o.value);
        let new = if new {
            (self.joiner)(&record.key, change.new.as_ref(), other_value)
        } else {
            None
        };
        let old = if old {
            (self.joiner)(&record.key, change.old.as_ref(), other_value)
        } else {
            None
        };
        ctx.forward(Record {
            key: record.key,
            value: Change::with_latest(new, old, change.is_latest),
            timestamp: ts,
            headers: record.headers,
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_join_emits_what_kafka_s_processors_emit() {
        use SideRule::*;
        // Inner: nothing without the other side; the later timestamp.
        assert_eq!(side_output(Inner, true, false, None, 5, false), None);
        assert_eq!(
            side_output(Inner, true, true, Some(9), 5, false),
            Some((true, false, 9))
        );
        // A left row without a right one joins with None at its own timestamp.
        assert_eq!(
            side_output(LeftOfLeft, true, false, None, 5, true),
            Some((true, false, 5))
        );
        assert_eq!(side_output(LeftOfLeft, false, false, None, 5, true), None);
        // A right update always recomputes the left row (a deletion gives [left, null]).
        assert_eq!(
            side_output(RightOfLeft, false, true, Some(3), 5, true),
            Some((true, true, 5))
        );
        assert_eq!(side_output(RightOfLeft, true, false, None, 5, true), None);
        // Outer: a deletion with no other value is a deletion.
        assert_eq!(
            side_output(Outer, false, true, None, 5, false),
            Some((false, false, 5))
        );
        assert_eq!(
            side_output(Outer, false, false, Some(7), 5, true),
            Some((true, true, 7))
        );
    }
}
