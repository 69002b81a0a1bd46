#!/usr/bin/env bash
# Fetch the Kafka broker jars and Elasticsearch's integ-test-zip from Maven Central with Maven.
#
#   deploy/local/fetch.sh [kafka|elasticsearch|all]
#
# Results land in $DEPLOY_LOCAL_CACHE (deploy/local/.cache): kafka-<ver>/libs/*.jar and
# elasticsearch-<ver>/ (unzipped). Maven's own repository (~/.m2) is reused, so a second fetch is
# offline; a finished fetch leaves a .complete marker and is skipped next time.
#
# Stdout carries exactly one line, the fetched folder, since kafka.sh and elasticsearch.sh read it
# with $(...). Maven's own output goes to stderr: even with -q it writes colour codes to stdout,
# which once made the folder "\e[0m\e[0m/…/kafka-4.1.1" and the broker's classes unfindable.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v mvn >/dev/null || die "Maven (mvn) is not installed: apt-get install maven"
MVN=(mvn -B -q -ntp)

fetch_kafka() {
  local dest="$DEPLOY_LOCAL_CACHE/kafka-$KAFKA_VERSION"
  local jar="$dest/libs/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar"  # what a complete fetch must hold
  if [[ -f "$dest/.complete" ]]; then
    [[ -s "$jar" ]] || die "no Kafka broker jar in '$dest/libs' (delete that folder and start again to refetch)"
    echo "$dest"; return 0
  fi
  log "fetching org.apache.kafka:kafka_$SCALA_VERSION:$KAFKA_VERSION and its runtime dependencies"
  rm -rf "$dest"; mkdir -p "$dest"
  # A throwaway pom: copy-dependencies resolves the broker's whole runtime classpath.
  cat > "$dest/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cashwatch.local</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_VERSION</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka 4 logs through log4j2 (slf4j 1.7 API) but leaves the binding to the distribution. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  "${MVN[@]}" -f "$dest/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest/libs" >&2 \
    || die "Maven could not fetch Kafka $KAFKA_VERSION (see the Maven error above)"
  [[ -s "$jar" ]] || die "Maven finished but $dest/libs has no $(basename "$jar")"
  touch "$dest/.complete"
  echo "$dest"
}

fetch_elasticsearch() {
  local dest="$DEPLOY_LOCAL_CACHE/elasticsearch-$ES_VERSION"
  [[ -f "$dest/.complete" ]] && { echo "$dest"; return 0; }
  log "fetching org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
  rm -rf "$dest" "$dest.zipdir"; mkdir -p "$dest.zipdir"
  # 9.x zips are published without a pom: Maven warns "The POM ... is missing" and still fetches.
  "${MVN[@]}" dependency:copy -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
    -DoutputDirectory="$dest.zipdir" -Dmdep.useBaseVersion=true >&2 \
    || die "Maven could not fetch Elasticsearch $ES_VERSION integ-test-zip (see the Maven error above)"
  unzip -q "$dest.zipdir/elasticsearch-$ES_VERSION.zip" -d "$dest.zipdir"
  mv "$dest.zipdir/elasticsearch-$ES_VERSION" "$dest"
  rm -rf "$dest.zipdir"
  [[ -x "$dest/bin/elasticsearch" ]] || die "the Elasticsearch $ES_VERSION zip has no bin/elasticsearch"
  touch "$dest/.complete"
  echo "$dest"
}

mkdir -p "$DEPLOY_LOCAL_CACHE"
case "${1:-all}" in
  kafka) fetch_kafka ;;
  elasticsearch) fetch_elasticsearch ;;
  all) fetch_kafka; fetch_elasticsearch ;;
  *) die "usage: $0 [kafka|elasticsearch|all]" ;;
esac
