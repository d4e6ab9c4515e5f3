//! The Processor API: the [`Processor`] trait users implement and the [`ProcessorContext`]
//! it forwards records through, schedules punctuation with and opens stores from.
//!
//! Types are checked by the compiler: a processor's input types are its parents' output
//! types ([`crate::topology::NodeHandle`]), and it can only forward its own output types.

mod context;
pub(crate) mod node;
pub mod punctuation;
pub(crate) mod task_context;

pub use context::{ProcessorContext, StoreAccess};
pub use punctuation::{Cancellable, PunctuationType};
pub use task_context::{OutgoingRecord, PartitionCounts};

use crate::error::BoxError;
use crate::record::Record;

/// A node that receives records of `KIn`/`VIn` and forwards records of `KOut`/`VOut`
/// (Kafka Streams' `api.Processor`). One instance per task, created by the supplier given
/// to [`crate::topology::TopologyBuilder::add_processor`]; it is called from one thread.
pub trait Processor<KIn, VIn, KOut, VOut>: 'static {
    /// Called once before the first record: schedule punctuators, check stores.
    fn init(&mut self, ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<(), BoxError> {
        let _ = ctx;
        Ok(())
    }

    /// Process one record.
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        record: Record<KIn, VIn>,
    ) -> Result<(), BoxError>;

    /// Called once when the task closes.
    fn close(&mut self, ctx: &mut ProcessorContext<'_, KOut, VOut>) {
        let _ = ctx;
    }
}

/// Any closure over a record is a processor without state or punctuation.
impl<KIn, VIn, KOut, VOut, F> Processor<KIn, VIn, KOut, VOut> for F
where
    F: FnMut(&mut ProcessorContext<'_, KOut, VOut>, Record<KIn, VIn>) -> Result<(), BoxError>
        + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        record: Record<KIn, VIn>,
    ) -> Result<(), BoxError> {
        self(ctx, record)
    }
}
