//! Joins: stream-stream (windowed, [`stream_stream`], its outer-join store in
//! [`outer_store`]), stream-table and stream-global-table ([`stream_table`]) and
//! table-table ([`table_table`]), a stream-table join's grace-period buffer
//! ([`join_buffer`]), and the value getters through which joins read tables
//! ([`value_getter`]).

pub(crate) mod foreign_key;
pub(crate) mod join_buffer;
pub(crate) mod outer_store;
pub(crate) mod self_join;
pub(crate) mod stream_stream;
pub(crate) mod stream_table;
pub(crate) mod table_table;
pub(crate) mod value_getter;
