// The Java client (kafka-clients 4.4.0, the reference) as an interop peer.
//
//   java -cp "$KAFKA_LIBS/*" JavaPeer.java produce BOOTSTRAP TOPIC CODEC COUNT PREFIX BASE_TS
//   java -cp "$KAFKA_LIBS/*" JavaPeer.java consume BOOTSTRAP TOPIC COUNT
//   java -cp "$KAFKA_LIBS/*" JavaPeer.java group BOOTSTRAP GROUP TOPIC ASSIGNOR SECONDS
//     (a group member: prints "assignment p,p,..." whenever its assignment changes, then
//     "records N")
//   java -cp "$KAFKA_LIBS/*" JavaPeer.java consume-committed BOOTSTRAP TOPIC SECONDS
//     (isolation.level=read_committed: partition 0 from the beginning until the position reaches
//     the end offset, which for read_committed is the last stable offset, or SECONDS passed;
//     one JSON line per record, then "count N")
//
// Same record shape and output format as rdkafka_peer.py.
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.*;

public class JavaPeer {
  static String json(String s) {
    if (s == null) return "null";
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  static void printRecord(ConsumerRecord<byte[], byte[]> r) {
    StringBuilder h = new StringBuilder("[");
    for (Header x : r.headers()) {
      if (h.length() > 1) h.append(",");
      h.append("[").append(json(x.key())).append(",")
       .append(json(x.value() == null ? null : new String(x.value()))).append("]");
    }
    h.append("]");
    System.out.println("{\"key\":" + json(r.key() == null ? null : new String(r.key()))
        + ",\"value\":" + json(r.value() == null ? null : new String(r.value()))
        + ",\"headers\":" + h + ",\"offset\":" + r.offset() + ",\"timestamp\":" + r.timestamp() + "}");
  }

  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", a[1]);
    if (a[0].equals("produce-keys")) {
      // produce-keys BOOTSTRAP TOPIC COUNT: keys "key-<i>", no explicit partition, so the
      // Java client's default partitioner places them.
      p.put("linger.ms", "20");
      p.put("batch.size", "262144");
      int count = Integer.parseInt(a[3]);
      try (Producer<byte[], byte[]> prod = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < count; i++) {
          prod.send(new ProducerRecord<>(a[2], ("key-" + i).getBytes(), ("v" + i).getBytes()));
        }
        prod.flush();
      }
      System.out.println("ok " + count);
    } else if (a[0].equals("produce")) {
      p.put("compression.type", a[3]);
      p.put("linger.ms", "50");
      p.put("acks", "all");
      int count = Integer.parseInt(a[4]);
      String prefix = a[5];
      long baseTs = Long.parseLong(a[6]);
      try (Producer<byte[], byte[]> prod = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
        List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          String v = (prefix + "-v-" + i + "|").repeat(8);
          ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(a[2], 0, baseTs + i,
              (prefix + "-k-" + i).getBytes(), v.getBytes());
          r.headers().add("idx", String.valueOf(i).getBytes());
          fs.add(prod.send(r));
        }
        prod.flush();
        for (var f : fs) f.get();
      }
      System.out.println("ok " + count);
    } else if (a[0].equals("group")) {
      String assignor = switch (a[4]) {
        case "range" -> RangeAssignor.class.getName();
        case "roundrobin" -> RoundRobinAssignor.class.getName();
        default -> CooperativeStickyAssignor.class.getName();
      };
      p.put("group.id", a[2]);
      p.put("partition.assignment.strategy", assignor);
      p.put("auto.offset.reset", "earliest");
      p.put("session.timeout.ms", "10000");
      p.put("heartbeat.interval.ms", "500");
      long end = System.currentTimeMillis() + Long.parseLong(a[5]) * 1000;
      try (Consumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(a[3]));
        String last = null;
        long n = 0;
        while (System.currentTimeMillis() < end) {
          n += c.poll(Duration.ofMillis(200)).count();
          List<Integer> parts = new ArrayList<>();
          for (TopicPartition tp : c.assignment()) parts.add(tp.partition());
          Collections.sort(parts);
          StringBuilder sb = new StringBuilder();
          for (int x : parts) { if (sb.length() > 0) sb.append(","); sb.append(x); }
          String now = sb.toString();
          if (!now.equals(last)) {
            System.out.println("assignment " + now);
            System.out.flush();
            last = now;
          }
        }
        System.out.println("records " + n);
      }
    } else if (a[0].equals("consume-committed")) {
      p.put("enable.auto.commit", "false");
      p.put("isolation.level", "read_committed");
      long deadline = System.currentTimeMillis() + (long) (Double.parseDouble(a[3]) * 1000);
      try (Consumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        TopicPartition tp = new TopicPartition(a[2], 0);
        c.assign(List.of(tp));
        c.seekToBeginning(List.of(tp));
        long got = 0;
        while (System.currentTimeMillis() < deadline) {
          // endOffsets follows isolation.level: the last stable offset here.
          long end = c.endOffsets(List.of(tp)).get(tp);
          if (c.position(tp) >= end) break;
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
            printRecord(r);
            got++;
          }
        }
        System.out.println("count " + got);
      }
    } else {
      p.put("enable.auto.commit", "false");
      int count = Integer.parseInt(a[3]);
      try (Consumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        TopicPartition tp = new TopicPartition(a[2], 0);
        c.assign(List.of(tp));
        c.seek(tp, 0);
        int got = 0;
        long deadline = System.currentTimeMillis() + 30_000;
        while (got < count && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
            printRecord(r);
            got++;
          }
        }
        if (got < count) { System.err.println("only " + got + " of " + count); System.exit(1); }
      }
    }
  }
}
