#!/usr/bin/env bash
# A one-node Elasticsearch (integ-test-zip, security off) on loopback, for development and tests.
#
#   deploy/local/elasticsearch.sh start    # fetch if needed, start, wait for cluster health yellow;
#                                          # prints "url=http://127.0.0.1:PORT" on stdout
#   deploy/local/elasticsearch.sh stop     # SIGTERM, SIGKILL after 60 s; data kept
#   deploy/local/elasticsearch.sh status   # prints the URL, exit 1 when not running
#   deploy/local/elasticsearch.sh clean    # stop and delete the run folder
#
# The integ-test-zip has no bundled JDK: ES_JAVA_HOME is set to a Java 21+ found on the machine.
# Elasticsearch refuses to run as root, so as root it runs as the system user $ES_USER (created on
# first use). State lives in $DEPLOY_LOCAL_RUN/elasticsearch: config/, data/, logs/, pid, port.
# A restart reuses the port and the data (tests stop and start it to simulate an outage).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUN="$DEPLOY_LOCAL_RUN/elasticsearch"
PIDFILE="$RUN/pid"

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
url() { echo "http://127.0.0.1:$(cat "$RUN/port")"; }

healthy() {
  curl -fsS -m 2 "$(url)/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null | grep -q '"status":"\(green\|yellow\)"'
}

start() {
  if running; then url | sed 's/^/url=/'; return 0; fi
  local home java_home port tport
  home="$("$LOCAL_DIR/fetch.sh" elasticsearch)"
  java_home="$(find_java 21)" || die "Elasticsearch $ES_VERSION needs Java 21+; none found (set DEPLOY_LOCAL_JAVA_HOME)"
  mkdir -p "$RUN/data" "$RUN/logs" "$RUN/tmp" "$RUN/config"
  if [[ -f "$RUN/port" && -f "$RUN/transport_port" ]]; then
    port="$(cat "$RUN/port")"; tport="$(cat "$RUN/transport_port")"
  else
    port="${ES_PORT:-$(free_port)}"; tport="$(free_port)"
    echo "$port" > "$RUN/port"; echo "$tport" > "$RUN/transport_port"
  fi
  # A private config folder: Elasticsearch writes its keystore there and must own it.
  cp -rn "$home/config/." "$RUN/config/"
  cat > "$RUN/config/elasticsearch.yml" <<YML
cluster.name: cashwatch-local
node.name: local-1
path.data: $RUN/data
path.logs: $RUN/logs
network.host: 127.0.0.1
http.port: $port
transport.port: $tport
discovery.type: single-node
xpack.security.enabled: false
# Small disks on CI machines must not turn indices read-only.
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
YML
  cat > "$RUN/config/jvm.options.d/heap.options" <<JVM
$(echo $ES_HEAP | tr ' ' '\n')
-XX:TieredStopAtLevel=1
JVM
  # gc logging into the run folder, not the distribution.
  sed -i "s#file=gc.log#file=$RUN/logs/gc.log#; s#ErrorFile=hs_err_pid#ErrorFile=$RUN/logs/hs_err_pid#" "$RUN/config/jvm.options"
  local -a runas=()
  if [[ "$(id -u)" == 0 ]]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" \
      || die "cannot create the user $ES_USER that Elasticsearch runs as (it refuses to run as root)"
    chown -R "$ES_USER:" "$RUN"
    # The user must be able to reach the run folder and read the distribution (a checkout under
    # /root is not): give "others" search permission on the folders above them, nothing more.
    local d
    for d in "$RUN" "$home"; do
      while [[ "$d" != / ]]; do d="$(dirname "$d")"; chmod o+x "$d" 2>/dev/null || true; done
    done
    chmod -R o+rX "$home" 2>/dev/null || true
    runuser -u "$ES_USER" -- test -r "$home/lib" \
      || die "the user $ES_USER cannot read $home (Elasticsearch refuses to run as root)"
    runas=(runuser -u "$ES_USER" --)
  fi
  log "elasticsearch $ES_VERSION: starting on 127.0.0.1:$port (java $(java_major "$java_home/bin/java"), run dir $RUN)"
  : > "$RUN/stdout.log"; chmod a+w "$RUN/stdout.log"
  setsid "${runas[@]}" env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$RUN/config" ES_TMPDIR="$RUN/tmp" \
    "$home/bin/elasticsearch" -p "$PIDFILE" >>"$RUN/stdout.log" 2>&1 </dev/null &
  local launcher=$!
  local deadline=$((SECONDS + HEALTH_TIMEOUT_S))
  until healthy; do
    if ! kill -0 "$launcher" 2>/dev/null && ! running; then
      tail -60 "$RUN/stdout.log" >&2; die "elasticsearch exited during start-up (log: $RUN/stdout.log)"
    fi
    if (( SECONDS >= deadline )); then tail -60 "$RUN/stdout.log" >&2; die "elasticsearch not healthy after ${HEALTH_TIMEOUT_S}s"; fi
    sleep 0.5
  done
  log "elasticsearch: healthy at $(url)"
  echo "url=$(url)"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pidfile elasticsearch "$PIDFILE" ;;
  status) running && url | sed 's/^/url=/' || { echo "elasticsearch: not running" >&2; exit 1; } ;;
  clean) stop_pidfile elasticsearch "$PIDFILE"; rm -rf "$RUN" ;;
  *) die "usage: $0 start|stop|status|clean" ;;
esac
