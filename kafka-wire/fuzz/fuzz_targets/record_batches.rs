//! Any bytes as the `records` of a fetch response, compressed or not, with and without CRC
//! checks (without, the fuzzer reaches the decompressors and record parsing).
#![no_main]

use bytes::Bytes;
use kafka_wire::protocol::record_batch::{DecodeLimits, RecordBatchReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits { max_decompressed_batch_bytes: 1 << 20, check_crcs: false };
    for batch in RecordBatchReader::new(Bytes::copy_from_slice(data), limits) {
        if let Ok(b) = batch {
            let _ = b.control_type();
        }
    }
    let strict = DecodeLimits { max_decompressed_batch_bytes: 1 << 20, check_crcs: true };
    let _ = RecordBatchReader::new(Bytes::copy_from_slice(data), strict).count();
});
