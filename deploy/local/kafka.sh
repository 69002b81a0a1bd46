#!/usr/bin/env bash
# A one-node Apache Kafka (KRaft, combined broker+controller) on loopback, for development and tests.
#
#   deploy/local/kafka.sh start    # fetch if needed, format, start, wait until it accepts clients;
#                                  # prints "bootstrap=127.0.0.1:PORT" on stdout
#   deploy/local/kafka.sh stop     # SIGTERM (controlled shutdown), SIGKILL after 60 s; data kept
#   deploy/local/kafka.sh status   # prints the bootstrap address, exit 1 when not running
#   deploy/local/kafka.sh clean    # stop and delete the run folder (data and logs)
#
# State lives in $DEPLOY_LOCAL_RUN/kafka (default deploy/local/run/kafka): server.properties,
# data/, kafka.log, pid, port. A restart reuses the port and the data. KAFKA_PORT pins the port.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUN="$DEPLOY_LOCAL_RUN/kafka"
PIDFILE="$RUN/pid"

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if running; then echo "bootstrap=127.0.0.1:$(cat "$RUN/port")"; return 0; fi
  local home java_home port cport cluster_id
  home="$("$LOCAL_DIR/fetch.sh" kafka)"  # (fetch.sh refuses a cached folder without the broker jar)
  java_home="$(find_java 17)" || die "Kafka $KAFKA_VERSION needs Java 17+; none found (set DEPLOY_LOCAL_JAVA_HOME)"
  mkdir -p "$RUN"
  if [[ -f "$RUN/port" && -f "$RUN/controller_port" && -d "$RUN/data" ]]; then
    port="$(cat "$RUN/port")"; cport="$(cat "$RUN/controller_port")"
  else
    rm -rf "$RUN/data"
    port="${KAFKA_PORT:-$(free_port)}"; cport="$(free_port)"
    echo "$port" > "$RUN/port"; echo "$cport" > "$RUN/controller_port"
  fi
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
num.partitions=1
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start consumers right away: do not hold the first rebalance back.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=24
PROPS
  cat > "$RUN/log4j2.properties" <<'L4J'
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
L4J
  local -a jvm=("$java_home/bin/java" $KAFKA_HEAP -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Djava.awt.headless=true -Dkafka.logs.dir="$RUN" -Dlog4j2.configurationFile="$RUN/log4j2.properties"
    -cp "$home/libs/*")
  if [[ ! -f "$RUN/data/meta.properties" ]]; then
    cluster_id="$(kafka_cluster_id)"
    "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$RUN/server.properties" >"$RUN/format.log" 2>&1 \
      || { cat "$RUN/format.log" >&2; die "kafka storage format failed"; }
  fi
  : > "$RUN/kafka.log"
  log "kafka $KAFKA_VERSION: starting on 127.0.0.1:$port (java $(java_major "$java_home/bin/java"), run dir $RUN)"
  setsid "${jvm[@]}" kafka.Kafka "$RUN/server.properties" >"$RUN/stdout.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  local deadline=$((SECONDS + HEALTH_TIMEOUT_S))
  until grep -q "Kafka Server started" "$RUN/kafka.log" 2>/dev/null && python3 - "$port" <<'PY'
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
PY
  do
    if ! running; then tail -40 "$RUN/stdout.log" "$RUN/kafka.log" >&2; die "kafka exited during start-up"; fi
    if (( SECONDS >= deadline )); then tail -40 "$RUN/kafka.log" >&2; die "kafka not healthy after ${HEALTH_TIMEOUT_S}s"; fi
    sleep 0.5
  done
  log "kafka: healthy on 127.0.0.1:$port"
  echo "bootstrap=127.0.0.1:$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pidfile kafka "$PIDFILE" ;;
  status) running && echo "bootstrap=127.0.0.1:$(cat "$RUN/port")" || { echo "kafka: not running" >&2; exit 1; } ;;
  clean) stop_pidfile kafka "$PIDFILE"; rm -rf "$RUN" ;;
  *) die "usage: $0 start|stop|status|clean" ;;
esac
