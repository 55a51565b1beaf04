#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, single node) without Docker.
#
#   scripts/kafka.sh start | stop | status | logs
#
# The official broker jars and their runtime dependencies (plus a log4j2 binding) are resolved from
# Maven Central with mvn into a cache outside the repository. If KAFKA_HOME points to an unpacked
# Kafka distribution, its libs/ are used instead. Data lives under $STATE_DIR/kafka so a restart keeps
# the topics and their messages. `stop` ends only the process this script started (its PID file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${STATE_DIR:-$ROOT/.state}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="${LOG4J_VERSION:-2.25.3}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_CACHE="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stock-market-pipeline/kafka-$KAFKA_VERSION}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

DATA_DIR="$STATE_DIR/kafka/data"
CONF_DIR="$STATE_DIR/kafka/config"
LOG_DIR="$STATE_DIR/kafka/logs"
PID_FILE="$STATE_DIR/kafka/kafka.pid"

say() { printf '[kafka] %s\n' "$*" >&2; }
die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  # The PID must still be our broker, not a recycled PID of something else.
  if [[ -n "$pid" ]] && alive "$pid" && is_broker "$pid"; then
    echo "$pid"
    return 0
  fi
  return 1
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

classpath() {
  if [[ -n "${KAFKA_HOME:-}" ]]; then
    [[ -d "$KAFKA_HOME/libs" ]] || die "KAFKA_HOME=$KAFKA_HOME has no libs/ directory"
    echo "$KAFKA_HOME/libs/*"
    return
  fi
  local libs="$KAFKA_CACHE/libs"
  if [[ ! -f "$KAFKA_CACHE/.complete" ]]; then
    command -v mvn >/dev/null || die "mvn not found: install Maven, or set KAFKA_HOME to a Kafka distribution"
    say "resolving Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_CACHE (first run only)"
    mkdir -p "$KAFKA_CACHE"
    cat >"$KAFKA_CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stock-market-pipeline</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
    rm -rf "$libs"
    (cd "$KAFKA_CACHE" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime -Dstyle.color=never >&2) \
      || die "mvn could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (is Maven Central reachable?)"
    touch "$KAFKA_CACHE/.complete"
  fi
  echo "$libs/*"
}

write_config() {
  mkdir -p "$CONF_DIR" "$DATA_DIR" "$LOG_DIR"
  cat >"$CONF_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
EOF
  cat >"$CONF_DIR/log4j2.yaml" <<EOF
Configuration:
  Appenders:
    File:
      name: FILE
      fileName: "$LOG_DIR/server.log"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: FILE
    Logger:
      - name: kafka
        level: WARN
      - name: org.apache.kafka
        level: WARN
EOF
}

java_cmd() {
  local cp="$1"; shift
  # shellcheck disable=SC2086
  java $KAFKA_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.yaml" -cp "$cp" "$@"
}

start() {
  if pid="$(running_pid)"; then
    say "already running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
    return 0
  fi
  command -v java >/dev/null || die "java not found: Kafka 4 needs Java 17+"
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    die "port $KAFKA_HOST:$KAFKA_PORT is taken by another process; stop it or set KAFKA_PORT"
  fi
  local cp
  cp="$(classpath)"
  write_config
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    say "formatting storage in $DATA_DIR"
    java_cmd "$cp" kafka.tools.StorageTool format \
      -t "$(java_cmd "$cp" kafka.tools.StorageTool random-uuid)" \
      -c "$CONF_DIR/server.properties" >"$LOG_DIR/format.log" 2>&1 \
      || { cat "$LOG_DIR/format.log" >&2; die "storage format failed"; }
  fi
  say "starting broker on $KAFKA_HOST:$KAFKA_PORT (logs: $LOG_DIR/server.log)"
  # setsid: the broker gets its own session, so a Ctrl-C in the calling terminal reaches it only
  # through our own stop path, which waits for a clean shutdown.
  setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.yaml" -cp "$cp" \
    kafka.Kafka "$CONF_DIR/server.properties" >"$LOG_DIR/stdout.log" 2>&1 </dev/null &
  local pid=$!
  # The PID file is written at once and kept while that process lives, whatever the probes below say:
  # `stop` (and `make stop`) must always be able to find the broker, even after a failed start.
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  # Until the JVM has replaced the forked shell, the PID's command line is not yet the broker's:
  # wait for the process by its PID, then for the port, then for a metadata round trip.
  until is_broker "$pid" && port_open "$KAFKA_HOST" "$KAFKA_PORT" && ready; do
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      tail -n 30 "$LOG_DIR/stdout.log" "$LOG_DIR/server.log" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      die "broker exited during start-up (see $LOG_DIR)"
    fi
    if ((SECONDS > deadline)); then
      die "broker (pid $pid) did not answer within ${START_TIMEOUT}s; it is left running so that" \
          "\`scripts/kafka.sh stop\` (or \`make stop\`) can stop it (see $LOG_DIR)"
    fi
    sleep 0.5
  done
  say "ready: bootstrap.servers=$KAFKA_HOST:$KAFKA_PORT (pid $pid)"
}

# A live process (a zombie child that exited but is not yet reaped does not count).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

# The process is the broker's JVM (it has exec'ed), not the shell that forked it.
is_broker() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "kafka.Kafka"; }

# An admin-client round trip: the broker answers metadata requests, not just accepts TCP.
ready() {
  local py="${PYTHON:-$ROOT/.venv/bin/python}"
  [[ -x "$py" ]] || py=python3
  "$py" - "$KAFKA_HOST:$KAFKA_PORT" <<'EOF' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1], "socket.timeout.ms": 2000}).list_topics(timeout=3)
sys.exit(0 if md.brokers else 1)
EOF
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      say "broker did not stop within 60s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  if pid="$(running_pid)"; then
    say "running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
  else
    say "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) tail -n "${2:-100}" "$LOG_DIR/server.log" ;;
  fetch) classpath >/dev/null && say "jars cached in $KAFKA_CACHE" ;;
  *) echo "usage: $0 start|stop|status|logs [N]|fetch" >&2; exit 2 ;;
esac
