//! Connection set-up before multiplexing starts: strictly one exchange at a time on the bare
//! stream, then the [`Messenger`] takes the stream over.
//!
//! Two things happen here. ApiVersions, for every connection: the client must know the
//! broker's versions before it sends anything else. And, for brokers before Kafka 1.0 (no
//! SaslAuthenticate API), the SASL exchange itself: after a SaslHandshake v0 the mechanism's
//! messages travel as *raw* frames (a 4-byte size and the token, no request header, no
//! correlation id), which only a connection with nothing else in flight can carry.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::BrokerAddress;
use crate::error::ConnectionError;
use crate::protocol::{frame, ApiKey, Request};

use super::{Messenger, MessengerOptions};

/// A freshly opened stream, used one request (or raw token) at a time.
pub(super) struct Prelude<S> {
    stream: S,
    addr: BrokerAddress,
    options: MessengerOptions,
    next_correlation_id: i32,
    /// Throttle time (ms) a response asked for; handed to the messenger.
    throttle_ms: Option<i32>,
}

impl<S> Prelude<S>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    pub(super) fn new(stream: S, addr: BrokerAddress, options: MessengerOptions) -> Self {
        Prelude {
            stream,
            addr,
            options,
            next_correlation_id: 0,
            throttle_ms: None,
        }
    }

    pub(super) fn addr(&self) -> &BrokerAddress {
        &self.addr
    }

    pub(super) fn client_id(&self) -> Option<&str> {
        self.options.client_id.as_deref()
    }

    /// Remember a throttle time from a response; the messenger will honour it.
    pub(super) fn throttle(&mut self, ms: i32) {
        self.throttle_ms = Some(ms);
    }

    /// Send `request` at `version` and return its response frame (size prefix removed,
    /// correlation id checked, header not yet decoded).
    pub(super) async fn round_trip<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<Bytes, ConnectionError> {
        let id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let encoded =
            frame::encode_request(request, version, id, self.client_id()).map_err(|source| {
                ConnectionError::Encode {
                    addr: self.addr.clone(),
                    api: R::API_KEY,
                    version,
                    source,
                }
            })?;
        let response = self.exchange(R::API_KEY, &encoded, 4).await?;
        match frame::peek_correlation_id(&response) {
            Ok(got) if got == id => Ok(response),
            _ => Err(ConnectionError::Closed {
                addr: self.addr.clone(),
                reason: format!(
                    "{:?} response carries the wrong correlation id (expected {id})",
                    R::API_KEY
                ),
            }),
        }
    }

    /// One raw SASL token each way (SaslHandshake v0): write `token` with a 4-byte size, read
    /// the broker's token the same way. The broker's token may be empty.
    pub(super) async fn raw_token(&mut self, token: &[u8]) -> Result<Bytes, ConnectionError> {
        let len = i32::try_from(token.len()).map_err(|_| ConnectionError::Closed {
            addr: self.addr.clone(),
            reason: format!("a SASL token of {} bytes is too long", token.len()),
        })?;
        let mut out = BytesMut::with_capacity(4 + token.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(token);
        self.exchange(ApiKey::SaslHandshake, &out, 0).await
    }

    /// Write `out`, then read one size-prefixed frame of at least `min` bytes, all within
    /// `request.timeout.ms`.
    async fn exchange(
        &mut self,
        api: ApiKey,
        out: &[u8],
        min: usize,
    ) -> Result<Bytes, ConnectionError> {
        let timeout = self.options.request_timeout;
        let max = self.options.max_response_size;
        let addr = self.addr.clone();
        let stream = &mut self.stream;
        let work = async {
            stream
                .write_all(out)
                .await
                .map_err(|e| io_error(&addr, e))?;
            stream.flush().await.map_err(|e| io_error(&addr, e))?;
            read_sized(stream, &addr, min, max).await
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ConnectionError::RequestTimeout {
                addr: self.addr.clone(),
                api,
                after: timeout,
            })?
    }

    /// Hand the stream to a [`Messenger`]: multiplexing starts here.
    pub(super) fn into_messenger(self) -> Messenger {
        let messenger = Messenger::start(self.stream, self.addr, self.options);
        if let Some(ms) = self.throttle_ms {
            messenger.throttle(ms);
        }
        messenger
    }
}

fn io_error(addr: &BrokerAddress, e: std::io::Error) -> ConnectionError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ConnectionError::Closed {
            addr: addr.clone(),
            reason: "the broker closed the connection".into(),
        }
    } else {
        ConnectionError::Io {
            addr: addr.clone(),
            source: Arc::new(e),
        }
    }
}

/// Read one frame: a 4-byte size in `min..=max`, then that many bytes.
pub(super) async fn read_sized<R: AsyncRead + Unpin>(
    read: &mut R,
    addr: &BrokerAddress,
    min: usize,
    max: usize,
) -> Result<Bytes, ConnectionError> {
    let size = read.read_i32().await.map_err(|e| io_error(addr, e))?;
    let size = match usize::try_from(size) {
        Ok(s) if s >= min => s,
        _ => {
            return Err(ConnectionError::InvalidFrameSize {
                addr: addr.clone(),
                size,
            })
        }
    };
    if size > max {
        return Err(ConnectionError::ResponseTooLarge {
            addr: addr.clone(),
            size,
            limit: max,
        });
    }
    let mut buf = BytesMut::zeroed(size);
    read.read_exact(&mut buf)
        .await
        .map_err(|e| io_error(addr, e))?;
    Ok(buf.freeze())
}
