// Prints Kafka's error table (code, name, retriable, invalidates metadata, message) as TSV.
// Run by generate.py with the kafka-clients jar on the classpath.
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.InvalidMetadataException;
public class DumpErrors {
  public static void main(String[] a) {
    for (Errors e : Errors.values()) {
      Exception ex = e.exception();
      boolean retriable = ex instanceof RetriableException;
      boolean invalidMeta = ex instanceof InvalidMetadataException;
      String msg = ex == null ? "" : String.valueOf(ex.getMessage()).replace("\t"," ").replace("\n"," ");
      System.out.println(e.code() + "\t" + e.name() + "\t" + retriable + "\t" + invalidMeta + "\t" + msg);
    }
  }
}
