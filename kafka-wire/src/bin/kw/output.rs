//! `-J` records and `-L` metadata the way kcat renders them.

use kafka_wire::cluster::ClusterMetadata;
use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::protocol::record_batch::TimestampType;
use serde_json::{json, Value};

fn json_bytes(b: &Option<bytes::Bytes>) -> Value {
    match b {
        Some(v) => Value::String(String::from_utf8_lossy(v).into_owned()),
        None => Value::Null,
    }
}

/// kcat's `-J` envelope for a consumed record.
pub fn json_record(r: &ConsumerRecord, broker: i32) -> String {
    let headers: Vec<Value> = r
        .headers
        .iter()
        .flat_map(|h| [Value::String(h.key_str().to_owned()), json_bytes(&h.value)])
        .collect();
    let mut v = json!({
        "topic": &*r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "tstype": match r.timestamp_type { TimestampType::CreateTime => "create", TimestampType::LogAppendTime => "logappend" },
        "ts": r.timestamp,
        "broker": broker,
        "key": json_bytes(&r.key),
        "payload": json_bytes(&r.value),
    });
    if !headers.is_empty() {
        v["headers"] = Value::Array(headers);
    }
    v.to_string()
}

/// `-L` as text, in kcat's layout.
pub fn metadata_text(m: &ClusterMetadata, from: &str) -> String {
    let mut s = format!(
        "Metadata for all topics (from broker {}: {from}):\n {} brokers:\n",
        m.controller_id.unwrap_or(-1),
        m.brokers.len()
    );
    for b in m.brokers.values() {
        let ctl = if Some(b.node_id) == m.controller_id {
            " (controller)"
        } else {
            ""
        };
        s += &format!("  broker {} at {}{ctl}\n", b.node_id, b.address);
    }
    s += &format!(" {} topics:\n", m.topics.len());
    for t in m.topics.values() {
        let err = if t.error.is_ok() {
            String::new()
        } else {
            format!(": {}", t.error.name())
        };
        s += &format!(
            "  topic \"{}\" with {} partitions{err}:\n",
            t.name,
            t.partitions.len()
        );
        for p in &t.partitions {
            let list = |v: &[i32]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let err = if p.error.is_ok() {
                String::new()
            } else {
                format!(", Broker: {}", p.error.name())
            };
            s += &format!(
                "    partition {}, leader {}, replicas: {}, isrs: {}{err}\n",
                p.partition,
                p.leader.unwrap_or(-1),
                list(&p.replicas),
                list(&p.isr)
            );
        }
    }
    s
}

/// `-L -J`, in kcat's JSON shape.
pub fn metadata_json(m: &ClusterMetadata, from: &str, topic: Option<&str>) -> String {
    let brokers: Vec<Value> = m
        .brokers
        .values()
        .map(|b| json!({"id": b.node_id, "name": b.address.to_string()}))
        .collect();
    let topics: Vec<Value> = m
        .topics
        .values()
        .map(|t| {
            let partitions: Vec<Value> = t
                .partitions
                .iter()
                .map(|p| {
                    let mut v = json!({
                        "partition": p.partition,
                        "leader": p.leader.unwrap_or(-1),
                        "replicas": p.replicas.iter().map(|r| json!({"id": r})).collect::<Vec<_>>(),
                        "isrs": p.isr.iter().map(|r| json!({"id": r})).collect::<Vec<_>>(),
                    });
                    if !p.error.is_ok() {
                        v["error"] = json!(p.error.name());
                    }
                    v
                })
                .collect();
            let mut v = json!({"topic": t.name, "partitions": partitions});
            if !t.error.is_ok() {
                v["error"] = json!(t.error.name());
            }
            v
        })
        .collect();
    json!({
        "originating_broker": {"id": m.controller_id.unwrap_or(-1), "name": from},
        "query": {"topic": topic.unwrap_or("*")},
        "controllerid": m.controller_id.unwrap_or(-1),
        "brokers": brokers,
        "topics": topics,
    })
    .to_string()
}
