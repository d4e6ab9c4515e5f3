//! The producer's input: bytes read in bounded chunks and split on the (possibly multi-byte)
//! `-D` delimiter, with no text conversion; each message is a zero-copy slice of the chunk
//! it was read into, split into key and value on `-K`.
//!
//! A reader thread does the blocking reads and the splitting and hands batches of messages
//! to the async sender over a bounded channel; a batch is handed over as soon as no further
//! complete message is buffered, so a message goes out once its delimiter has arrived.

use std::io::Read;

use bytes::{Buf, Bytes, BytesMut};
use tokio::sync::mpsc;

use crate::escape::find;

/// Bytes asked for per read.
const CHUNK: usize = 128 * 1024;
/// Messages per batch handed to the sender.
const BATCH: usize = 1024;
/// Batches buffered between the reader and the sender.
const BATCHES: usize = 4;

/// One input message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message as read, without its delimiter (what `-T` echoes); kept only for `-T`.
    pub line: Option<Bytes>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// How a line becomes a key and a value.
#[derive(Debug, Clone)]
pub struct KeySplit {
    /// `-K`: the key ends at its first occurrence.
    pub key_delim: Option<Vec<u8>>,
    /// `-Z`: with `-K`, an empty key or value is sent as NULL.
    pub null: bool,
    /// `-T`: keep the whole message for the echo.
    pub keep_line: bool,
}

impl KeySplit {
    /// Split `line` (kcat: a line without the key delimiter is all value, no key).
    pub fn split(&self, line: Bytes) -> Message {
        if let Some(d) = &self.key_delim {
            if let Some(at) = find(&line, d) {
                let key = line.slice(..at);
                let value = line.slice(at + d.len()..);
                let keep = |b: Bytes| (!self.null || !b.is_empty()).then_some(b);
                return Message {
                    key: keep(key),
                    value: keep(value),
                    line: self.keep_line.then_some(line),
                };
            }
        }
        Message {
            key: None,
            line: self.keep_line.then(|| line.clone()),
            value: Some(line),
        }
    }
}

/// Why input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("Unable to read message: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("a message is larger than {max} bytes (max.request.size); is the -D delimiter right?")]
    TooLarge { max: usize },
}

/// Splits a byte stream into messages on a delimiter, holding at most one partial message
/// (bounded by `max`) beyond the complete ones not yet taken.
#[derive(Debug)]
pub struct Splitter {
    buf: BytesMut,
    delim: Vec<u8>,
    /// Where the next delimiter search starts (bytes before it hold no delimiter start).
    scan: usize,
    max: usize,
}

impl Splitter {
    /// A splitter on `delim` (non-empty) for messages of at most `max` bytes.
    pub fn new(delim: Vec<u8>, max: usize) -> Splitter {
        Splitter {
            buf: BytesMut::new(),
            delim,
            scan: 0,
            max,
        }
    }

    /// The next complete message buffered, without its delimiter.
    pub fn next_message(&mut self) -> Option<Bytes> {
        let at = self.scan + find(&self.buf[self.scan..], &self.delim)?;
        let msg = self.buf.split_to(at).freeze();
        self.buf.advance(self.delim.len());
        self.scan = 0;
        Some(msg)
    }

    /// Append bytes (tests feed input in pieces this way).
    #[cfg(test)]
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Read more input; `Ok(false)` at end of input. Call after
    /// [`Splitter::next_message`] returned `None`.
    pub fn fill(&mut self, r: &mut impl Read) -> Result<bool, InputError> {
        if self.buf.len() > self.max + self.delim.len() {
            return Err(InputError::TooLarge { max: self.max });
        }
        // Nothing before here can start a delimiter: the next search skips it.
        self.scan = self.buf.len().saturating_sub(self.delim.len() - 1);
        let n = self.buf.len();
        self.buf.resize(n + CHUNK, 0);
        let read = loop {
            match r.read(&mut self.buf[n..]) {
                Ok(k) => break k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(n);
                    return Err(e.into());
                }
            }
        };
        self.buf.truncate(n + read);
        Ok(read > 0)
    }

    /// At end of input: what is left (a last message without a trailing delimiter).
    pub fn rest(&mut self) -> Option<Bytes> {
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }
}

/// Where delimited messages come from.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(String),
}

/// Batches of messages (or the error that ended the input), in input order.
pub type Batches = mpsc::Receiver<Result<Vec<Message>, InputError>>;

/// Start the reader thread. Empty messages are skipped (as in kcat). The thread ends at end
/// of input, on an error (sent as the last item), or when the receiver is dropped.
pub fn spawn_reader(source: Source, delim: Vec<u8>, split: KeySplit, max: usize) -> Batches {
    let (tx, rx) = mpsc::channel(BATCHES);
    std::thread::spawn(move || {
        let result = match source {
            Source::Stdin => read_all(&mut std::io::stdin(), delim, &split, max, &tx),
            Source::File(path) => match std::fs::File::open(&path) {
                Ok(mut f) => read_all(&mut f, delim, &split, max, &tx),
                Err(source) => Err(InputError::Open { path, source }),
            },
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn read_all(
    r: &mut impl Read,
    delim: Vec<u8>,
    split: &KeySplit,
    max: usize,
    tx: &mpsc::Sender<Result<Vec<Message>, InputError>>,
) -> Result<(), InputError> {
    let mut s = Splitter::new(delim, max);
    let mut batch = Vec::with_capacity(BATCH);
    // `false` when the sender is gone: stop reading.
    let hand_over = |batch: &mut Vec<Message>| {
        batch.is_empty()
            || tx
                .blocking_send(Ok(std::mem::replace(batch, Vec::with_capacity(BATCH))))
                .is_ok()
    };
    loop {
        while let Some(m) = s.next_message() {
            if !m.is_empty() {
                batch.push(split.split(m));
                if batch.len() == BATCH && !hand_over(&mut batch) {
                    return Ok(());
                }
            }
        }
        if !hand_over(&mut batch) {
            return Ok(());
        }
        if !s.fill(r)? {
            break;
        }
    }
    if let Some(m) = s.rest() {
        batch.push(split.split(m));
    }
    hand_over(&mut batch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(input: &[u8], delim: &[u8], reads: usize) -> Vec<Vec<u8>> {
        let mut s = Splitter::new(delim.to_vec(), 1 << 20);
        let mut out = Vec::new();
        for chunk in input.chunks(reads.max(1)) {
            s.push(chunk);
            while let Some(m) = s.next_message() {
                out.push(m.to_vec());
            }
        }
        out.extend(s.rest().map(|m| m.to_vec()));
        out
    }

    #[test]
    fn splits_bytes_unchanged_across_reads() {
        let input = b"\xff\xfe\x00;;a;b;;;;\x80\xc3;;tail";
        for reads in [1, 2, 3, 5, 100] {
            assert_eq!(
                split_all(input, b";;", reads),
                vec![
                    b"\xff\xfe\x00".to_vec(),
                    b"a;b".to_vec(),
                    b"".to_vec(),
                    b"\x80\xc3".to_vec(),
                    b"tail".to_vec()
                ],
                "reads of {reads}"
            );
        }
        assert_eq!(
            split_all(b"a\nb\n", b"\n", 1),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn fill_reads_and_bounds_a_message() {
        let mut s = Splitter::new(b"\n".to_vec(), 4);
        let mut r: &[u8] = b"abc\ndefghijk\n";
        assert!(s.fill(&mut r).unwrap());
        assert_eq!(s.next_message().as_deref(), Some(&b"abc"[..]));
        assert_eq!(s.next_message().as_deref(), Some(&b"defghijk"[..]));
        let mut s = Splitter::new(b"\n".to_vec(), 4);
        let mut r: &[u8] = b"0123456789";
        assert!(s.fill(&mut r).unwrap());
        assert!(s.next_message().is_none());
        assert!(matches!(
            s.fill(&mut r),
            Err(InputError::TooLarge { max: 4 })
        ));
    }

    #[test]
    fn keys_and_nulls() {
        let k = KeySplit {
            key_delim: Some(b"::".to_vec()),
            null: false,
            keep_line: true,
        };
        let m = k.split(Bytes::from_static(b"k::v::w"));
        assert_eq!(
            (m.key.as_deref(), m.value.as_deref()),
            (Some(&b"k"[..]), Some(&b"v::w"[..]))
        );
        let m = k.split(Bytes::from_static(b"novalue"));
        assert_eq!((m.key, m.value.as_deref()), (None, Some(&b"novalue"[..])));
        let m = k.split(Bytes::from_static(b"::"));
        assert_eq!(
            (m.key.as_deref(), m.value.as_deref()),
            (Some(&b""[..]), Some(&b""[..]))
        );
        let z = KeySplit { null: true, ..k };
        let m = z.split(Bytes::from_static(b"::v"));
        assert_eq!((m.key, m.value.as_deref()), (None, Some(&b"v"[..])));
        let m = z.split(Bytes::from_static(b"k::"));
        assert_eq!((m.key.as_deref(), m.value), (Some(&b"k"[..]), None));
        assert_eq!(m.line, Some(Bytes::from_static(b"k::")));
        let m = KeySplit {
            keep_line: false,
            ..z
        }
        .split(Bytes::from_static(b"x"));
        assert_eq!((m.line, m.value.as_deref()), (None, Some(&b"x"[..])));
    }

    #[tokio::test]
    async fn reader_thread_streams_a_file() {
        let path = std::env::temp_dir().join(format!("kw-input-{}", std::process::id()));
        std::fs::write(&path, b"a\n\nb\nc").unwrap();
        let split = KeySplit {
            key_delim: None,
            null: false,
            keep_line: true,
        };
        let mut rx = spawn_reader(
            Source::File(path.display().to_string()),
            b"\n".to_vec(),
            split,
            100,
        );
        let mut got = Vec::new();
        while let Some(b) = rx.recv().await {
            got.extend(
                b.unwrap()
                    .into_iter()
                    .filter_map(|m| m.line)
                    .map(|l| l.to_vec()),
            );
        }
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let _ = std::fs::remove_file(path);
    }
}
