//! Rendering records and metadata the way kcat does.

use kafka_wire::cluster::ClusterMetadata;
use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::protocol::record_batch::TimestampType;
use serde_json::{json, Value};

fn text(b: &Option<bytes::Bytes>) -> String {
    b.as_deref()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

fn json_bytes(b: &Option<bytes::Bytes>) -> Value {
    match b {
        Some(v) => Value::String(String::from_utf8_lossy(v).into_owned()),
        None => Value::Null,
    }
}

/// Apply a kcat `-f` format (`%t %p %o %k %s %K %S %T %h %%`, escapes already expanded).
pub fn format_record(fmt: &str, r: &ConsumerRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(fmt.len() + r.value.as_ref().map_or(0, |v| v.len()));
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('t') => out.extend_from_slice(r.topic.as_bytes()),
            Some('p') => out.extend_from_slice(r.partition.to_string().as_bytes()),
            Some('o') => out.extend_from_slice(r.offset.to_string().as_bytes()),
            Some('k') => out.extend_from_slice(r.key.as_deref().unwrap_or_default()),
            Some('s') => out.extend_from_slice(r.value.as_deref().unwrap_or_default()),
            Some('K') => out.extend_from_slice(
                r.key
                    .as_ref()
                    .map_or(-1, |k| k.len() as i64)
                    .to_string()
                    .as_bytes(),
            ),
            Some('S') => out.extend_from_slice(
                r.value
                    .as_ref()
                    .map_or(-1, |v| v.len() as i64)
                    .to_string()
                    .as_bytes(),
            ),
            Some('T') => out.extend_from_slice(r.timestamp.to_string().as_bytes()),
            Some('h') => {
                let h: Vec<String> = r
                    .headers
                    .iter()
                    .map(|h| format!("{}={}", h.key_str(), text(&h.value)))
                    .collect();
                out.extend_from_slice(h.join(",").as_bytes());
            }
            Some('%') => out.push(b'%'),
            Some(other) => {
                out.push(b'%');
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'%'),
        }
    }
    out
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

/// The `-f` format in effect: the given one, else kcat's default (`%s`, or `%k<K>%s` with `-K`).
pub fn record_format(args: &crate::args::Args) -> String {
    args.format
        .as_deref()
        .map(crate::args::unescape)
        .unwrap_or_else(|| match &args.key_delim {
            Some(d) => format!("%k{d}%s{}", args.delim),
            None => format!("%s{}", args.delim),
        })
}

/// Write one consumed record as `-J` JSON or in `fmt`, flushing with `-u`.
pub fn write_record(
    out: &mut impl std::io::Write,
    args: &crate::args::Args,
    fmt: &str,
    r: &ConsumerRecord,
) -> std::io::Result<()> {
    if args.json {
        out.write_all(json_record(r, -1).as_bytes())?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(&format_record(fmt, r))?;
    }
    if args.unbuffered {
        out.flush()?;
    }
    Ok(())
}
