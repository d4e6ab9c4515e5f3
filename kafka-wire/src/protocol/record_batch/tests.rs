use super::*;
use proptest::prelude::*;

fn sample(compression: Compression) -> RecordBatch {
    let records = (0..50)
        .map(|i| Record {
            offset: 100 + i,
            timestamp: 1_700_000_000_000 + i * 3,
            key: (i % 3 != 0).then(|| Bytes::from(format!("key-{i}"))),
            value: (i % 7 != 0).then(|| Bytes::from(vec![i as u8; i as usize * 10])),
            headers: if i % 2 == 0 {
                vec![
                    Header::new("h", Some(Bytes::from_static(b"v"))),
                    Header::new("n", None::<Bytes>),
                ]
            } else {
                vec![]
            },
        })
        .collect();
    RecordBatch {
        base_offset: 100,
        compression,
        base_timestamp: 1_700_000_000_000,
        producer_id: 42,
        producer_epoch: 3,
        base_sequence: 7,
        is_transactional: true,
        records,
        ..RecordBatch::default()
    }
}

#[test]
fn batches_round_trip_with_every_codec() {
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let batch = sample(codec);
        let wire = encode_batch(&batch).unwrap();
        let decoded = decode_batches(wire, DecodeLimits::default()).unwrap();
        assert_eq!(decoded.len(), 1);
        let d = &decoded[0];
        assert_eq!(d.records, batch.records, "{codec:?}");
        assert_eq!(d.last_offset_delta, 49);
        assert_eq!(d.max_timestamp, 1_700_000_000_000 + 49 * 3);
        assert_eq!(
            (d.producer_id, d.producer_epoch, d.base_sequence),
            (42, 3, 7)
        );
        assert!(d.is_transactional && !d.is_control);
        assert_eq!(d.next_offset(), 150);
    }
}

#[test]
fn uncompressed_values_are_slices_of_the_fetched_buffer() {
    let wire = encode_batch(&sample(Compression::None)).unwrap();
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    let batch = decode_batches(wire.clone(), DecodeLimits::default())
        .unwrap()
        .remove(0);
    for r in &batch.records {
        if let Some(v) = &r.value {
            assert!(range.contains(&(v.as_ptr() as usize)) || v.is_empty());
        }
    }
}

#[test]
fn corrupted_byte_fails_the_crc() {
    let mut wire = encode_batch(&sample(Compression::None)).unwrap().to_vec();
    let last = wire.len() - 1;
    wire[last] ^= 0xff;
    let err = decode_batches(Bytes::from(wire), DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            RecordBatchError::CrcMismatch {
                base_offset: 100,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_partial_trailing_batch_is_skipped() {
    let one = encode_batch(&sample(Compression::Lz4)).unwrap();
    let mut two = BytesMut::new();
    two.put_slice(&one);
    two.put_slice(&one[..one.len() / 2]);
    let mut reader = RecordBatchReader::new(two.freeze(), DecodeLimits::default());
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().is_none());
    assert_eq!(reader.remaining(), one.len() / 2);
}

#[test]
fn control_batches_report_their_marker() {
    let wire = encode_batch(&control_batch(false, 9, 1, 5, 77, 1000)).unwrap();
    let batch = decode_batches(wire, DecodeLimits::default())
        .unwrap()
        .remove(0);
    assert!(batch.is_control);
    assert_eq!(batch.control_type(), Some(ControlRecordType::Abort));
}

#[test]
fn log_append_time_applies_the_batch_max_timestamp() {
    let mut batch = sample(Compression::None);
    batch.timestamp_type = TimestampType::LogAppendTime;
    batch.max_timestamp = 5_000;
    let decoded = decode_batches(encode_batch(&batch).unwrap(), DecodeLimits::default()).unwrap();
    assert!(decoded[0].records.iter().all(|r| r.timestamp == 5_000));
}

#[test]
fn a_huge_record_count_is_refused_without_allocating() {
    let mut wire = encode_batch(&sample(Compression::None)).unwrap().to_vec();
    wire[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    let crc = crc32c::crc32c(&wire[ATTRIBUTES_OFFSET..]);
    wire[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    assert!(decode_batches(Bytes::from(wire), DecodeLimits::default()).is_err());
}

type ArbRecord = (
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(String, Option<Vec<u8>>)>,
    i64,
);

fn arb_record() -> impl Strategy<Value = ArbRecord> {
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        proptest::collection::vec(
            (
                "[a-z]{0,8}",
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..10)),
            ),
            0..4,
        ),
        -1_000_000i64..1_000_000,
    )
}

proptest! {
    #[test]
    fn any_batch_round_trips(
        recs in proptest::collection::vec(arb_record(), 0..20),
        codec in prop_oneof![Just(Compression::None), Just(Compression::Gzip), Just(Compression::Snappy), Just(Compression::Lz4), Just(Compression::Zstd)],
        base_offset in 0i64..1 << 40,
        base_ts in 0i64..1 << 42,
    ) {
        let records: Vec<Record> = recs.into_iter().enumerate().map(|(i, (k, v, h, dt))| Record {
            offset: base_offset + i as i64,
            timestamp: base_ts + dt,
            key: k.map(Bytes::from),
            value: v.map(Bytes::from),
            headers: h.into_iter().map(|(k, v)| Header::new(k, v.map(Bytes::from))).collect(),
        }).collect();
        let batch = RecordBatch { base_offset, base_timestamp: base_ts, compression: codec, records, ..RecordBatch::default() };
        let decoded = decode_batches(encode_batch(&batch).unwrap(), DecodeLimits::default()).unwrap();
        prop_assert_eq!(&decoded[0].records, &batch.records);
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_batches(Bytes::from(data), DecodeLimits { check_crcs: false, ..DecodeLimits::default() });
    }
}

/// Writes one valid batch per codec as fuzzing seeds into `$KAFKA_WIRE_FUZZ_SEEDS`
/// (run by scripts/fuzz).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Ok(dir) = std::env::var("KAFKA_WIRE_FUZZ_SEEDS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let mut batch = sample(codec);
        batch.records.truncate(5);
        let wire = encode_batch(&batch).unwrap();
        std::fs::write(format!("{dir}/{}.batch", codec.name()), &wire).unwrap();
    }
    let control = encode_batch(&control_batch(true, 1, 0, 0, 0, 0)).unwrap();
    std::fs::write(format!("{dir}/control.batch"), &control).unwrap();
}
