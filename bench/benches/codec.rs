//! Broker-free micro-benchmark: per-record cost of encoding + compressing a RecordBatch, and of
//! decompressing + decoding it, for 1000 records of 100 B. `cargo bench -p bench --bench codec`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kafka_wire::protocol::compression::Compression;
use kafka_wire::protocol::record_batch::{
    decode_batches, encode_batch, DecodeLimits, Record, RecordBatch,
};

fn batch(codec: Compression) -> RecordBatch {
    RecordBatch {
        compression: codec,
        base_timestamp: 1_700_000_000_000,
        records: (0..1000)
            .map(|i| Record {
                offset: i,
                timestamp: 1_700_000_000_000 + i,
                key: Some(Bytes::from(format!("key-{i:06}"))),
                value: Some(Bytes::from(format!("{i:0>100}"))),
                headers: Vec::new(),
            })
            .collect(),
        ..RecordBatch::default()
    }
}

fn bench(c: &mut Criterion) {
    for codec in [
        Compression::None,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Gzip,
        Compression::Snappy,
    ] {
        let b = batch(codec);
        let wire = encode_batch(&b).expect("encodes");
        let mut g = c.benchmark_group(format!("1000 x 100 B, {}", codec.name()));
        g.throughput(Throughput::Elements(1000));
        g.bench_function("encode+compress", |bench| {
            bench.iter(|| encode_batch(&b).expect("encodes"))
        });
        g.bench_function("decompress+decode", |bench| {
            bench.iter(|| decode_batches(wire.clone(), DecodeLimits::default()).expect("decodes"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
