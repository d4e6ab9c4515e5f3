# scripts/lib/streams-jars.sh: the Java Kafka Streams jars the tests and benchmarks compare
# with, downloaded from Maven Central into the cache once (sourced, not run; CACHE must be set).
# Used by scripts/test and bench/java/run-demo-bench.

# Kafka Streams 4.4.0, its test-utils, kafka-clients, slf4j-api and RocksDB's JNI jar (the
# versioned-table comparison, dsl_ttd_java_versioned.rs, needs Java's versioned store and grace
# buffer, which only exist on RocksDB) into STREAMS_LIBS.
fetch_streams_libs() {
  STREAMS_LIBS="$CACHE/kafka-streams-4.4.0/libs"
  STREAMS_JARS=(org.apache.kafka:kafka-streams:4.4.0 org.apache.kafka:kafka-streams-test-utils:4.4.0 org.apache.kafka:kafka-clients:4.4.0 org.slf4j:slf4j-api:1.7.36 org.rocksdb:rocksdbjni:10.1.3)
  if [ ! -f "$STREAMS_LIBS/kafka-streams-4.4.0.jar" ] || [ ! -f "$STREAMS_LIBS/kafka-streams-test-utils-4.4.0.jar" ] || [ ! -f "$STREAMS_LIBS/kafka-clients-4.4.0.jar" ] || [ ! -f "$STREAMS_LIBS/slf4j-api-1.7.36.jar" ] || [ ! -f "$STREAMS_LIBS/rocksdbjni-10.1.3.jar" ]; then
    # The test runs DescribeTopologies.java as a source file: that needs a JDK, not only a JRE.
    command -v javac >/dev/null && command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven; }
    rm -rf "$STREAMS_LIBS.tmp" && mkdir -p "$STREAMS_LIBS.tmp"
    for jar in "${STREAMS_JARS[@]}"; do
      mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$jar" -DoutputDirectory="$STREAMS_LIBS.tmp" \
        >"$STREAMS_LIBS.mvn.log" 2>&1 || { cat "$STREAMS_LIBS.mvn.log" >&2; echo "mvn could not download $jar" >&2; exit 1; }
    done
    rm -rf "$STREAMS_LIBS" && mv "$STREAMS_LIBS.tmp" "$STREAMS_LIBS"
  fi
}

# kafka-streams-examples 4.3.1 and what its demos need into EXAMPLES_LIBS.
fetch_streams_examples() {
  # The demos' jar and its sources (for reading what they do), slf4j-simple so the demos' logs
  # show (on stderr) when a test fails, RocksDB's JNI jar (WordCountDemo's count() uses the
  # default RocksDB store) and Jackson (its state directory's metadata file): the versions
  # kafka-streams 4.4.0 depends on; connect-json 4.4.0 (with its jackson-module-blackbird) for
  # PageViewUntypedDemo's JsonNode serdes.
  # They run on the kafka-streams/kafka-clients 4.4.0 jars of fetch_streams_libs.
  EXAMPLES_LIBS="$CACHE/kafka-streams-examples-4.3.1"
  EXAMPLES_JARS=(org.apache.kafka:kafka-streams-examples:4.3.1 org.apache.kafka:kafka-streams-examples:4.3.1:jar:sources org.slf4j:slf4j-simple:1.7.36 org.rocksdb:rocksdbjni:10.1.3 com.fasterxml.jackson.core:jackson-databind:2.21.7 com.fasterxml.jackson.core:jackson-core:2.21.7 com.fasterxml.jackson.core:jackson-annotations:2.21 org.apache.kafka:connect-json:4.4.0 com.fasterxml.jackson.module:jackson-module-blackbird:2.21.7)
  if [ ! -f "$EXAMPLES_LIBS/kafka-streams-examples-4.3.1.jar" ] || [ ! -f "$EXAMPLES_LIBS/kafka-streams-examples-4.3.1-sources.jar" ] || [ ! -f "$EXAMPLES_LIBS/slf4j-simple-1.7.36.jar" ] || [ ! -f "$EXAMPLES_LIBS/rocksdbjni-10.1.3.jar" ] || [ ! -f "$EXAMPLES_LIBS/jackson-databind-2.21.7.jar" ] || [ ! -f "$EXAMPLES_LIBS/connect-json-4.4.0.jar" ] || [ ! -f "$EXAMPLES_LIBS/jackson-module-blackbird-2.21.7.jar" ]; then
    command -v java >/dev/null && command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven; }
    rm -rf "$EXAMPLES_LIBS.tmp" && mkdir -p "$EXAMPLES_LIBS.tmp"
    for jar in "${EXAMPLES_JARS[@]}"; do
      mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$jar" -DoutputDirectory="$EXAMPLES_LIBS.tmp" \
        >"$EXAMPLES_LIBS.mvn.log" 2>&1 || { cat "$EXAMPLES_LIBS.mvn.log" >&2; echo "mvn could not download $jar" >&2; exit 1; }
    done
    rm -rf "$EXAMPLES_LIBS" && mv "$EXAMPLES_LIBS.tmp" "$EXAMPLES_LIBS"
  fi
}
