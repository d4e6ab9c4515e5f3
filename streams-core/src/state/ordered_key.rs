//! Byte encodings whose order is the order Kafka's stores iterate in: a key of any length
//! followed by timestamps compares key first (bytes, lexicographically), then time.
//!
//! A key is written with every `0x00` escaped as `0x00 0xff` and ended by `0x00 0x00`, so no
//! key's encoding is a prefix of another's; a timestamp is written big-endian with its sign
//! bit flipped, so negative times sort before positive ones.

/// Append the order-preserving encoding of `key`.
pub(crate) fn push_key(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Append an order-preserving timestamp.
pub(crate) fn push_time(out: &mut Vec<u8>, t: i64) {
    out.extend_from_slice(&((t as u64) ^ (1 << 63)).to_be_bytes());
}

/// Split an encoded key off the front of `bytes`: (key, rest). `None` when malformed.
pub(crate) fn split_key(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut key = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0 {
            match bytes.get(i + 1) {
                Some(0) => return Some((key, &bytes[i + 2..])),
                Some(0xff) => {
                    key.push(0);
                    i += 2;
                    continue;
                }
                _ => return None,
            }
        }
        key.push(b);
        i += 1;
    }
    None
}

/// Read an order-preserving timestamp from the front of `bytes`.
pub(crate) fn read_time(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some(((u64::from_be_bytes(*head) ^ (1 << 63)) as i64, rest))
}

/// `key` ‖ `times`, in order.
pub(crate) fn encode(key: &[u8], times: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2 + 8 * times.len() + 4);
    push_key(&mut out, key);
    for t in times {
        push_time(&mut out, *t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn order_is_key_bytes_then_time(a in proptest::collection::vec(any::<u8>(), 0..6), ta in any::<i64>(),
                                        b in proptest::collection::vec(any::<u8>(), 0..6), tb in any::<i64>()) {
            let ea = encode(&a, &[ta]);
            let eb = encode(&b, &[tb]);
            prop_assert_eq!(ea.cmp(&eb), (&a, ta).cmp(&(&b, tb)));
            let (ka, rest) = split_key(&ea).unwrap();
            prop_assert_eq!(&ka, &a);
            prop_assert_eq!(read_time(rest).unwrap().0, ta);
        }
    }

    #[test]
    fn malformed_encodings_are_refused() {
        assert!(split_key(&[1, 2, 3]).is_none());
        assert!(split_key(&[1, 0, 7]).is_none());
        assert!(read_time(&[1, 2]).is_none());
    }
}
