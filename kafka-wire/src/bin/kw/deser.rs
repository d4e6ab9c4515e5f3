//! kcat's built-in deserializers (`-s [key=|value=]<pack>`): a pack string as in Python's
//! `struct.unpack`, printed as text.
//!
//! Tokens: `<` little-endian, `>` big-endian (the default), `b`/`B` 8-bit, `h`/`H` 16-bit,
//! `i`/`I` 32-bit, `q`/`Q` 64-bit signed/unsigned integers, `c` one character, `s` the rest
//! as a string, `$` the input must end here, and a space printed as is. Bytes left after the
//! pack string are ignored (as in kcat).

use std::io::Write;

use crate::args::ArgError;

const TOKENS: &str = " <>bBhHiIqQcs$";

/// A validated pack string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack(Vec<u8>);

/// Why a key or value did not match its pack string.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error(
        "{what} truncated, expected {need} bytes to unpack {token} but only {left} bytes remaining"
    )]
    Truncated {
        what: &'static str,
        need: usize,
        token: char,
        left: usize,
    },
    #[error("expected {what} end-of-input, but {left} bytes remaining")]
    NotAtEnd { what: &'static str, left: usize },
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

impl Pack {
    /// Check `spec` as kcat does (`avro` needs a schema registry, which `kw` lacks).
    pub fn parse(what: &str, spec: &str) -> Result<Pack, ArgError> {
        if spec == "avro" {
            return Err(ArgError::Usage(
                "-s avro (Schema Registry) is not supported by kw".into(),
            ));
        }
        if spec.is_empty() {
            return Err(ArgError::Usage(format!(
                "{what} pack-format must not be empty"
            )));
        }
        if let Some(c) = spec.chars().find(|c| !TOKENS.contains(*c)) {
            return Err(ArgError::Usage(format!(
                "Invalid token '{c}' in {what} pack-format, see -s usage."
            )));
        }
        Ok(Pack(spec.as_bytes().to_vec()))
    }

    /// Print `data` unpacked to `out`.
    pub fn unpack(
        &self,
        what: &'static str,
        data: &[u8],
        out: &mut impl Write,
    ) -> Result<(), UnpackError> {
        let mut rest = data;
        let mut little = false;
        for &t in &self.0 {
            let size = match t {
                b'b' | b'B' | b'c' => 1,
                b'h' | b'H' => 2,
                b'i' | b'I' => 4,
                b'q' | b'Q' => 8,
                _ => 0,
            };
            if size > rest.len() {
                return Err(UnpackError::Truncated {
                    what,
                    need: size,
                    token: t as char,
                    left: rest.len(),
                });
            }
            let (field, tail) = rest.split_at(size);
            let mut buf = [0u8; 8];
            if little {
                buf[..size].copy_from_slice(field);
            } else {
                for (i, b) in field.iter().rev().enumerate() {
                    buf[i] = *b;
                }
            }
            let n = u64::from_le_bytes(buf);
            match t {
                b' ' => out.write_all(b" ")?,
                b'<' => little = true,
                b'>' => little = false,
                b'b' => write!(out, "{}", n as u8 as i8)?,
                b'B' => write!(out, "{}", n as u8)?,
                b'h' => write!(out, "{}", n as u16 as i16)?,
                b'H' => write!(out, "{}", n as u16)?,
                b'i' => write!(out, "{}", n as u32 as i32)?,
                b'I' => write!(out, "{}", n as u32)?,
                b'q' => write!(out, "{}", n as i64)?,
                b'Q' => write!(out, "{n}")?,
                b'c' => out.write_all(field)?,
                b's' => {
                    out.write_all(rest)?;
                    rest = &[];
                    continue;
                }
                b'$' if !rest.is_empty() => {
                    return Err(UnpackError::NotAtEnd {
                        what,
                        left: rest.len(),
                    })
                }
                _ => {}
            }
            rest = tail;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(spec: &str, data: &[u8]) -> Result<String, UnpackError> {
        let mut out = Vec::new();
        Pack::parse("value", spec)
            .unwrap()
            .unpack("value", data, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn unpacks_like_kcat() {
        assert_eq!(run(">I", &[0, 0, 1, 2]).unwrap(), "258");
        assert_eq!(run("<I", &[2, 1, 0, 0]).unwrap(), "258");
        assert_eq!(run("b B", &[0xff, 0xff]).unwrap(), "-1 255");
        assert_eq!(run("hH", &[0xff, 0xfe, 0, 1]).unwrap(), "-21");
        assert_eq!(run("q", &(-5i64).to_be_bytes()).unwrap(), "-5");
        assert_eq!(
            run("Q", &u64::MAX.to_be_bytes()).unwrap(),
            "18446744073709551615"
        );
        assert_eq!(run("<i s", b"\x01\x00\x00\x00 hello").unwrap(), "1  hello");
        assert_eq!(run("cc", b"xyz").unwrap(), "xy");
        assert_eq!(run("B$", &[1]).unwrap(), "1");
        assert!(matches!(
            run("B$", &[1, 2]),
            Err(UnpackError::NotAtEnd { left: 1, .. })
        ));
        let e = run(">q", &[1, 2]).unwrap_err().to_string();
        assert_eq!(
            e,
            "value truncated, expected 8 bytes to unpack q but only 2 bytes remaining"
        );
    }

    #[test]
    fn rejects_bad_pack_strings() {
        assert!(Pack::parse("key", "").is_err());
        assert!(Pack::parse("key", "avro").is_err());
        let e = Pack::parse("key", "Ix").unwrap_err().to_string();
        assert_eq!(e, "Invalid token 'x' in key pack-format, see -s usage.");
    }
}
