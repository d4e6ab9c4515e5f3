//! Request and response frames: a 4-byte size, a header, a body.

use bytes::{BufMut, Bytes, BytesMut};

use super::messages::{RequestHeader, ResponseHeader};
use super::wire::{Decode, DecodeError, DecodeErrorKind, Encode, EncodeError, ReadBuf};
use super::{ApiKey, Request};

/// Encode a complete request frame (size prefix included) for `request` at `version`.
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<BytesMut, EncodeError> {
    let api = R::API_KEY;
    let header = RequestHeader {
        request_api_key: api as i16,
        request_api_version: version,
        correlation_id,
        client_id: client_id.map(str::to_owned),
        ..Default::default()
    };
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i32(0); // size, patched below
    header.encode(&mut buf, api.request_header_version(version))?;
    request.encode(&mut buf, version)?;
    let size = buf.len() - 4;
    if size > i32::MAX as usize {
        return Err(EncodeError::TooLong {
            field: "RequestFrame",
            len: size,
        });
    }
    buf[0..4].copy_from_slice(&(size as i32).to_be_bytes());
    Ok(buf)
}

/// The correlation id at the start of every response (after the size prefix was stripped).
pub fn peek_correlation_id(frame: &[u8]) -> Result<i32, DecodeError> {
    match frame.get(0..4) {
        Some(b) => Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(DecodeError {
            field: "ResponseHeader.CorrelationId",
            kind: DecodeErrorKind::Truncated {
                needed: 4,
                remaining: frame.len(),
            },
        }),
    }
}

/// Decode a response frame (size prefix stripped) for an API at `version`.
pub fn decode_response<R: Request>(frame: Bytes, version: i16) -> Result<R::Response, DecodeError> {
    let mut buf = ReadBuf::new(frame);
    ResponseHeader::decode(&mut buf, R::API_KEY.response_header_version(version))?;
    R::Response::decode(&mut buf, version)
}

/// Decode a request frame (size prefix stripped): the header, and a cursor over the body.
/// Used by test brokers and fuzzers; clients never need it.
pub fn decode_request_header(
    frame: Bytes,
) -> Result<(RequestHeader, ApiKey, ReadBuf), DecodeError> {
    let mut probe = ReadBuf::new(frame.clone());
    let key = probe.i16("RequestHeader.RequestApiKey")?;
    let version = probe.i16("RequestHeader.RequestApiVersion")?;
    let api = ApiKey::from_i16(key).ok_or_else(|| {
        DecodeError::invalid(
            "RequestHeader.RequestApiKey",
            format!("unknown API key {key}"),
        )
    })?;
    let mut buf = ReadBuf::new(frame);
    let header = RequestHeader::decode(&mut buf, api.request_header_version(version))?;
    Ok((header, api, buf))
}

/// Encode a response frame (size prefix included). Used by test brokers.
pub fn encode_response<R: Request>(
    response: &R::Response,
    version: i16,
    correlation_id: i32,
) -> Result<BytesMut, EncodeError> {
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i32(0);
    let header = ResponseHeader {
        correlation_id,
        ..Default::default()
    };
    header.encode(&mut buf, R::API_KEY.response_header_version(version))?;
    response.encode(&mut buf, version)?;
    let size = (buf.len() - 4) as i32;
    buf[0..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf)
}
