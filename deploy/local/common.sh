# Shared settings of the deploy/local scripts (sourced, not run).
#
# Versions are chosen to run on the JDKs found on the machine and to match the Python clients:
#   Kafka 4.1 (KRaft only) needs Java 17+; the installed kafka-python 3.x and aiokafka 0.14 speak
#     the protocol versions Kafka 4 kept.
#   Elasticsearch 9.x needs Java 21+ and the installed elasticsearch-py 9.x client sends
#     compatible-with=9, so the server must be 9.x.
# Override any of these from the environment (DEPLOY_LOCAL_* rather than CASHWATCH_*: that prefix
# is the application's configuration override and would be rejected there as an unknown field).
set -euo pipefail

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${DEPLOY_LOCAL_CACHE:=$LOCAL_DIR/.cache}"
: "${DEPLOY_LOCAL_RUN:=$LOCAL_DIR/run}"
: "${KAFKA_VERSION:=4.1.1}"
: "${SCALA_VERSION:=2.13}"
: "${ES_VERSION:=9.5.0}"
: "${KAFKA_HEAP:=-Xms128m -Xmx384m}"
: "${ES_HEAP:=-Xms384m -Xmx384m}"
: "${ES_USER:=cashwatch-es}"
: "${HEALTH_TIMEOUT_S:=180}"

log() { echo "[deploy/local] $*" >&2; }
die() { echo "[deploy/local] ERROR: $*" >&2; exit 1; }

# java_major PATH_TO_JAVA -> prints the feature release number (17, 21, 25, ...)
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

# find_java MIN_MAJOR -> prints a JAVA_HOME whose java is at least MIN_MAJOR, or fails.
# Order: $DEPLOY_LOCAL_JAVA_HOME, $JAVA_HOME, then every JDK under /usr/lib/jvm and /opt (newest first).
find_java() {
  local min="$1" cand major
  local -a cands=()
  [[ -n "${DEPLOY_LOCAL_JAVA_HOME:-}" ]] && cands+=("$DEPLOY_LOCAL_JAVA_HOME")
  [[ -n "${JAVA_HOME:-}" ]] && cands+=("$JAVA_HOME")
  while IFS= read -r cand; do cands+=("$cand"); done < <(ls -d /usr/lib/jvm/*/ /opt/*/ /opt/java/*/ 2>/dev/null | sed 's:/$::' | sort -rV)
  if command -v java >/dev/null 2>&1; then
    cands+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for cand in "${cands[@]}"; do
    [[ -x "$cand/bin/java" ]] || continue
    major="$(java_major "$cand/bin/java" || true)"
    if [[ -n "$major" && "$major" -ge "$min" ]]; then
      echo "$cand"
      return 0
    fi
  done
  return 1
}

# kafka_cluster_id -> a fresh KRaft cluster id: a random UUID in URL-safe base64 without padding, as
# Kafka's own Uuid.randomUuid makes it, and like it never starting with "-" (one draw in 64 would), which
# the storage tool's argument parser would take for an option ("--cluster-id: expected one argument").
kafka_cluster_id() {
  python3 -c '
import base64, uuid
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not cid.startswith("-"):
        print(cid)
        break'
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_pid_gone PID SECONDS -> 0 when the process has exited
wait_pid_gone() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS >= deadline )) && return 1
    sleep 0.2
  done
  return 0
}

# stop_pidfile NAME PIDFILE: TERM, wait, then KILL; the whole process group the start script made.
stop_pidfile() {
  local name="$1" pidfile="$2" pid
  [[ -f "$pidfile" ]] || { log "$name: not running (no $pidfile)"; return 0; }
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_gone "$pid" 60; then
      log "$name: still alive after 60 s, killing"
      kill -KILL "$pid" 2>/dev/null || true
      wait_pid_gone "$pid" 10 || true
    fi
  fi
  rm -f "$pidfile"
}
