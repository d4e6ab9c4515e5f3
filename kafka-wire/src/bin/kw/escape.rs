//! kcat's escapes in delimiters (`-D`, `-K`) and formats (`-f`), to raw bytes, and the byte
//! search that splits input on a (possibly multi-byte) delimiter.

use crate::args::ArgError;

/// Expand `\n`, `\t`, `\r`, `\0`, `\\` and `\xNN` (one to two hex digits) into bytes; any
/// other backslash sequence stays as written (as in kcat).
pub fn unescape(s: &str) -> Result<Vec<u8>, ArgError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        match b[i] {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0' => out.push(0),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let digits = b[i + 1..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if digits == 0 {
                    return Err(ArgError::Usage(format!(
                        "delimiter {s:?} expects a hex number after \\x"
                    )));
                }
                let hex = &s[i + 1..i + 1 + digits];
                let v = u8::from_str_radix(hex, 16)
                    .map_err(|_| ArgError::Usage(format!("invalid \\x escape in {s:?}")))?;
                out.push(v);
                i += digits;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
        i += 1;
    }
    Ok(out)
}

/// The first position of byte `b` in `hay`, eight bytes at a time (memchr's word trick).
#[inline]
pub fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(b);
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        // A zero byte in `x` is a match; the lowest set high bit marks the first one.
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|c| *c == b)
        .map(|i| at + i)
}

/// The first position of `needle` (non-empty) in `hay`.
#[inline]
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => find_byte(hay, *b),
        [first, rest @ ..] => {
            let mut from = 0;
            while from + needle.len() <= hay.len() {
                let at = from
                    + hay[from..=hay.len() - needle.len()]
                        .iter()
                        .position(|c| c == first)?;
                if &hay[at + 1..at + needle.len()] == rest {
                    return Some(at);
                }
                from = at + 1;
            }
            None
        }
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape("a\\tb\\n").unwrap(), b"a\tb\n");
        assert_eq!(unescape("\\x54!\\x45\\x53T").unwrap(), b"T!EST");
        assert_eq!(unescape("\\xff\\x0").unwrap(), [0xff, 0]);
        assert_eq!(unescape("\\q\\").unwrap(), b"\\q\\");
        assert_eq!(unescape("").unwrap(), b"");
        assert!(unescape("\\xg").is_err());
    }

    #[test]
    fn finds_multi_byte_delimiters() {
        assert_eq!(find(b";Sep;Post", b";Sep;"), Some(0));
        assert_eq!(find(b"Pre;Sep;Post", b";Sep;"), Some(3));
        assert_eq!(find(b"Pre;SepPost", b";Sep;"), None);
        assert_eq!(find(b"Is The;", b";"), Some(6));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"xxab", b"ab"), Some(2));
        assert_eq!(find(b"", b"\n"), None);
        // The word-at-a-time search against the plain one, at every offset and length.
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for start in 0..20 {
            for b in [0u8, 1, 7, 0x80, 0xff, 250] {
                let h = &hay[start..];
                assert_eq!(
                    find_byte(h, b),
                    h.iter().position(|c| *c == b),
                    "{start} {b}"
                );
            }
        }
    }
}
