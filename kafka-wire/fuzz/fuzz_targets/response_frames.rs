//! Any bytes as a response frame of any API at any version: decoding must return a value or a
//! typed error, never panic, and never allocate more than the input justifies.
#![no_main]

use bytes::Bytes;
use kafka_wire::protocol::messages::{decode_response_body, ResponseHeader};
use kafka_wire::protocol::wire::{Decode, ReadBuf};
use kafka_wire::protocol::ApiKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let apis = ApiKey::ALL;
    let api = apis[data[0] as usize % apis.len()];
    let (lo, hi) = api.supported_versions();
    let version = lo + (data[1] as i16 % (hi - lo + 1));
    let mut buf = ReadBuf::new(Bytes::copy_from_slice(&data[2..]));
    if ResponseHeader::decode(&mut buf, api.response_header_version(version)).is_ok() {
        let _ = decode_response_body(api, version, &mut buf);
    }
});
