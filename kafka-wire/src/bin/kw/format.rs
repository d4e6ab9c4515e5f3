//! Consumed records as kcat prints them: the `-f` format (compiled once, then written
//! straight from the record's bytes), `-J`, `-Z`, `-O` and the `-s` deserializers.

use std::io::Write;

use kafka_wire::consumer::ConsumerRecord;

use crate::args::{ArgError, Args};
use crate::deser::{Pack, UnpackError};

/// One piece of a compiled `-f` format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(Vec<u8>),
    Topic,
    Partition,
    Offset,
    Key,
    Value,
    KeyLen,
    ValueLen,
    ValueLenBinary,
    Timestamp,
    Headers,
}

/// How each consumed record is written.
#[derive(Debug, Clone)]
pub struct RecordFormat {
    tokens: Vec<Token>,
    json: bool,
    null: bool,
    unbuffered: bool,
    key_pack: Option<Pack>,
    value_pack: Option<Pack>,
}

/// A record that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// stdout failed (closed pipe, full disk).
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// A key or value did not match its `-s` pack string (kcat: not fatal with `-E`).
    #[error("Failed to format message in {topic} [{partition}] at offset {offset}: {source}")]
    Deserialize {
        topic: String,
        partition: i32,
        offset: i64,
        source: UnpackError,
    },
}

fn compile(fmt: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut lit = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' || i + 1 == fmt.len() {
            lit.push(fmt[i]);
            i += 1;
            continue;
        }
        let t = match fmt[i + 1] {
            b't' => Token::Topic,
            b'p' => Token::Partition,
            b'o' => Token::Offset,
            b'k' => Token::Key,
            b's' => Token::Value,
            b'K' => Token::KeyLen,
            b'S' => Token::ValueLen,
            b'R' => Token::ValueLenBinary,
            b'T' => Token::Timestamp,
            b'h' => Token::Headers,
            b'%' => {
                lit.push(b'%');
                i += 2;
                continue;
            }
            other => {
                lit.extend_from_slice(&[b'%', other]);
                i += 2;
                continue;
            }
        };
        if !lit.is_empty() {
            tokens.push(Token::Literal(std::mem::take(&mut lit)));
        }
        tokens.push(t);
        i += 2;
    }
    if !lit.is_empty() {
        tokens.push(Token::Literal(lit));
    }
    tokens
}

impl RecordFormat {
    /// The format in effect: `-f`, else kcat's default (`%s<D>`, `%k<K>%s<D>` with `-K`,
    /// and with `-O` the offset first, followed by the `-K` delimiter or a tab).
    pub fn new(args: &Args) -> Result<RecordFormat, ArgError> {
        let fmt = match &args.format {
            Some(f) => crate::escape::unescape(f)?,
            None => {
                let mut f = Vec::new();
                if args.print_offset {
                    f.extend_from_slice(b"%o");
                    f.extend_from_slice(args.key_delim.as_deref().unwrap_or(b"\t"));
                }
                if let Some(k) = &args.key_delim {
                    f.extend_from_slice(b"%k");
                    f.extend_from_slice(&escape_percent(k));
                }
                f.extend_from_slice(b"%s");
                f.extend_from_slice(&escape_percent(&args.delim));
                f
            }
        };
        Ok(RecordFormat {
            tokens: compile(&fmt),
            json: args.json,
            null: args.null,
            unbuffered: args.unbuffered,
            key_pack: args.key_pack.clone(),
            value_pack: args.value_pack.clone(),
        })
    }

    /// Write one record.
    pub fn write(&self, out: &mut impl Write, r: &ConsumerRecord) -> Result<(), FormatError> {
        if self.json {
            out.write_all(crate::output::json_record(r, -1).as_bytes())?;
            out.write_all(b"\n")?;
        } else {
            for t in &self.tokens {
                match t {
                    Token::Literal(l) => out.write_all(l)?,
                    Token::Topic => out.write_all(r.topic.as_bytes())?,
                    Token::Partition => write!(out, "{}", r.partition)?,
                    Token::Offset => write!(out, "{}", r.offset)?,
                    Token::Key => self.field(out, r, "key", &r.key, &self.key_pack)?,
                    Token::Value => self.field(out, r, "value", &r.value, &self.value_pack)?,
                    Token::KeyLen => write!(out, "{}", len(&r.key))?,
                    Token::ValueLen => write!(out, "{}", len(&r.value))?,
                    Token::ValueLenBinary => {
                        out.write_all(&(len(&r.value) as i32).to_be_bytes())?
                    }
                    Token::Timestamp => write!(out, "{}", r.timestamp)?,
                    Token::Headers => {
                        for (i, h) in r.headers.iter().enumerate() {
                            if i > 0 {
                                out.write_all(b",")?;
                            }
                            out.write_all(&h.key)?;
                            out.write_all(b"=")?;
                            match &h.value {
                                Some(v) => out.write_all(v)?,
                                None => out.write_all(b"NULL")?,
                            }
                        }
                    }
                }
            }
        }
        if self.unbuffered {
            out.flush()?;
        }
        Ok(())
    }

    /// A key or value: its bytes (or deserialized), `NULL` with `-Z` when empty or null.
    fn field(
        &self,
        out: &mut impl Write,
        r: &ConsumerRecord,
        what: &'static str,
        data: &Option<bytes::Bytes>,
        pack: &Option<Pack>,
    ) -> Result<(), FormatError> {
        match data.as_deref() {
            Some(d) if !d.is_empty() => match pack {
                Some(p) => p
                    .unpack(what, d, out)
                    .map_err(|source| FormatError::Deserialize {
                        topic: r.topic.to_string(),
                        partition: r.partition,
                        offset: r.offset,
                        source,
                    })?,
                None => out.write_all(d)?,
            },
            _ if self.null => out.write_all(b"NULL")?,
            _ => {}
        }
        Ok(())
    }
}

fn len(b: &Option<bytes::Bytes>) -> i64 {
    b.as_ref().map_or(-1, |v| v.len() as i64)
}

/// A delimiter used inside a generated format: `%` must stay literal.
fn escape_percent(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.len());
    for &b in d {
        out.push(b);
        if b == b'%' {
            out.push(b'%');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_wire::protocol::record_batch::{Header, TimestampType};

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> ConsumerRecord {
        ConsumerRecord {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp: 99,
            timestamp_type: TimestampType::CreateTime,
            key: key.map(Bytes::copy_from_slice),
            value: value.map(Bytes::copy_from_slice),
            headers: vec![Header::new("a", Some("1")), Header::new("b", None::<Bytes>)],
            leader_epoch: None,
        }
    }

    fn render(cmd: &str, r: &ConsumerRecord) -> Vec<u8> {
        let argv: Vec<String> = format!("-b k -C -t t {cmd}")
            .split_whitespace()
            .map(String::from)
            .collect();
        let crate::args::Command::Run(mut a) = crate::args::parse(&argv).unwrap() else {
            panic!()
        };
        a.finish(|_| None, true).unwrap();
        let f = RecordFormat::new(&a).unwrap();
        let mut out = Vec::new();
        f.write(&mut out, r).unwrap();
        out
    }

    #[test]
    fn formats_like_kcat() {
        let r = record(Some(b"k"), Some(b"\xff\xfe\x00"));
        assert_eq!(render("", &r), b"\xff\xfe\x00\n");
        assert_eq!(render("-K :: -D ;;", &r), b"k::\xff\xfe\x00;;");
        assert_eq!(render("-O", &r), b"7\t\xff\xfe\x00\n");
        assert_eq!(render("-O -K |", &r), b"7|k|\xff\xfe\x00\n");
        assert_eq!(
            render("-f %t/%p/%o/%T/%K/%S/%h/%%/%x\\n", &r),
            b"t/2/7/99/1/3/a=1,b=NULL/%/%x\n"
        );
        assert_eq!(render("-f %R", &r), [0, 0, 0, 3]);
        let r = record(None, Some(b""));
        assert_eq!(render("-K :", &r), b":\n");
        assert_eq!(render("-K : -Z", &r), b"NULL:NULL\n");
        assert_eq!(render("-f %K,%S -Z", &record(None, None)), b"-1,-1");
    }

    #[test]
    fn deserializes_with_s() {
        let r = record(Some(&[0, 0, 1, 0]), Some(b"\x01\x02rest"));
        assert_eq!(render("-s key=>I -s value=<h -K =", &r), b"256=513\n");
        let argv: Vec<String> = "-b k -C -t t -s >q"
            .split_whitespace()
            .map(String::from)
            .collect();
        let crate::args::Command::Run(a) = crate::args::parse(&argv).unwrap() else {
            panic!()
        };
        let f = RecordFormat::new(&a).unwrap();
        let e = f.write(&mut Vec::new(), &r).unwrap_err().to_string();
        assert!(
            e.starts_with("Failed to format message in t [2] at offset 7: value truncated"),
            "{e}"
        );
    }
}
