//! Kafka's value hash of a foreign-key join: MurmurHash3 x64 128-bit of the serialized left
//! value with Kafka's seed (`Murmur3.hash128`), written big-endian as two longs on the
//! subscription and response topics.

/// Kafka's `Murmur3.DEFAULT_SEED`.
const SEED: u64 = 104_729;
const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// A value hash as the topics carry it: `h1` then `h2`, each big-endian.
pub(crate) type ValueHash = [u8; 16];

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// Little-endian `u64` of up to 8 bytes (missing high bytes zero).
fn le_u64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, b)| acc | (u64::from(*b) << (8 * i)))
}

/// Kafka's `Murmur3.hash128(data)`.
pub(crate) fn hash128(data: &[u8]) -> ValueHash {
    let (mut h1, mut h2) = (SEED, SEED);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        h1 ^= mix_k1(le_u64(a));
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(le_u64(b));
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    if tail.len() > 8 {
        h2 ^= mix_k2(le_u64(&tail[8..]));
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(le_u64(&tail[..tail.len().min(8)]));
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h1.to_be_bytes());
    out[8..].copy_from_slice(&h2.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: ValueHash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Hashes Java 4.4 wrote on a subscription topic (the `bytes` case of
    /// `TtdFkJoinsReference.java`), of values short and past one 16-byte block.
    #[test]
    fn hashes_are_javas() {
        assert_eq!(hex(hash128(b"A,pen")), "e49192376451cf6f63ed3f96c5896444");
        assert_eq!(hex(hash128(b"B,ink")), "0b2646b7a65b7fd54a7edb9c7f0e006c");
        assert_eq!(hex(hash128(b"nofk")), "86acf90601515c973eb7edcf504673e3");
    }

    /// Java 4.4's `Murmur3.hash128` of inputs around the 16-byte block and the 8-byte tail
    /// split, and of bytes above 0x7f (Java's bytes are signed).
    #[test]
    fn blocks_tails_and_high_bytes_are_javas() {
        let cases: [(&str, &str); 6] = [
            ("", "9d2764a018e329428c3cf3b035938518"),
            ("a", "3361634e7e0f5188e9c7dda24eae326b"),
            ("0123456789abcde", "c480e6b5c0016979a0d033624a7f7904"),
            ("0123456789abcdef", "1a6e941ec6a76967d7d82808f505d6b1"),
            ("0123456789abcdef0", "85e3069a748c16b6bc8c0a283538abb8"),
            (
                "0123456789abcdef0123456789abcdefXYZ\u{e9}\u{ff}",
                "832f7152a15530961026dbc87de62660",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(hex(hash128(input.as_bytes())), expected, "{input:?}");
        }
    }
}
