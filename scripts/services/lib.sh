# shellcheck shell=bash
# Shared helpers for scripts/services/{up,down,restart-kafka}.sh.
# Sourced, not executed. Provisions a single-node KRaft Kafka broker (jars from
# Maven Central, cached), Debian's redis-server and, when asked, an Apicurio
# Schema Registry (tarball from Maven Central, cached), all on 127.0.0.1.

SERVICES_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SERVICES_SCRIPT_DIR/../.." && pwd)"
SERVICES_DIR="${SERVICES_DIR:-$PROJECT_ROOT/.services}"
SERVICES_ENV_FILE="${SERVICES_ENV_FILE:-$PROJECT_ROOT/.services.env}"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_SCALA="${KAFKA_SCALA:-2.13}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms64m -Xmx512m}"
# C1-only JIT: ~1.3 s faster start and ~30 MB less RSS; fine for test loads.
# For throughput benchmarks set KAFKA_JVM_OPTS="-XX:+UseG1GC -XX:MaxGCPauseMillis=20".
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1}"
# AppCDS: the first broker run records its classes into an archive when it is
# stopped gracefully; later starts map it (~0.5 s faster). KAFKA_CDS=0 disables.
KAFKA_CDS="${KAFKA_CDS:-1}"
KAFKA_AUTO_CREATE_TOPICS="${KAFKA_AUTO_CREATE_TOPICS:-false}"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_READY_TIMEOUT="${REDIS_READY_TIMEOUT:-15}"
REDIS_STOP_TIMEOUT="${REDIS_STOP_TIMEOUT:-10}"
# Apicurio Registry 3.0.x: the newest on Maven Central that runs on Java 17 (3.1.x is not on
# Central, 3.2+ needs Java 21). In-memory storage: schemas are gone after a restart.
REGISTRY_VERSION="${REGISTRY_VERSION:-3.0.9}"
REGISTRY_PORT="${REGISTRY_PORT:-18081}"
REGISTRY_HEAP="${REGISTRY_HEAP:--Xms32m -Xmx256m}"
REGISTRY_JVM_OPTS="${REGISTRY_JVM_OPTS:--XX:TieredStopAtLevel=1}"
REGISTRY_READY_TIMEOUT="${REGISTRY_READY_TIMEOUT:-90}"
REGISTRY_STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-20}"

KAFKA_HOME="$SERVICES_DIR/kafka"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_LOG="$KAFKA_HOME/kafka.log"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_LOG4J="$KAFKA_HOME/log4j.properties"
KAFKA_PIDFILE="$SERVICES_DIR/kafka.pid"
KAFKA_CDS_ARCHIVE="$KAFKA_HOME/kafka-cds.jsa"

REDIS_HOME="$SERVICES_DIR/redis"
REDIS_LOG="$REDIS_HOME/redis.log"
REDIS_PIDFILE="$SERVICES_DIR/redis.pid"

REGISTRY_HOME="$SERVICES_DIR/registry"
REGISTRY_APP="$REGISTRY_HOME/app"
REGISTRY_LOG="$REGISTRY_HOME/registry.log"
REGISTRY_PIDFILE="$SERVICES_DIR/registry.pid"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"

log() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }

# Millisecond clock and "7.2 s" formatting.
now_ms() { date +%s%3N; }
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f s", (b - a) / 1000 }'; }

# Alive and not an exited zombie. pid 1 in containers may be slow to reap
# orphans; a JVM's main thread also shows Z while its other threads still tear
# down (and still hold its sockets), so Z only counts as dead once no other
# thread is left.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$st" ]] || return 1
  [[ "$st" != Z && "$st" != X ]] && return 0
  (($(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) > 1))
}

# wait_ports_closed SECONDS PORT...
wait_ports_closed() {
  local secs="$1" i p busy
  shift
  for ((i = 0; i < secs * 10; i++)); do
    busy=0
    for p in "$@"; do port_open "$p" && busy=1; done
    ((busy)) || return 0
    sleep 0.1
  done
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_of PIDFILE PATTERN -> prints the pid if alive and its cmdline matches PATTERN
# (guards against pid reuse); returns 1 otherwise.
pid_of() {
  local pidfile="$1" pattern="$2" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

port_owner() { { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; } || true; }

# stop_pid NAME PID TIMEOUT [SIGNAL]
stop_pid() {
  local name="$1" pid="$2" timeout="$3" sig="${4:-TERM}" t0 i
  t0="$(now_ms)"
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    pid_alive "$pid" || { log "$name: stopped (SIG$sig, pid $pid) in $(elapsed "$t0")"; return 0; }
    sleep 0.1
  done
  err "$name: still alive after ${timeout}s, sending SIGKILL to $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
  err "$name: pid $pid survived SIGKILL"
  return 1
}

rss_of() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# Serialise concurrent up/down/restart calls (e.g. parallel test workers).
services_lock() {
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/.lock"
  flock -w "${SERVICES_LOCK_TIMEOUT:-300}" 9 || {
    err "services: could not take $SERVICES_DIR/.lock within ${SERVICES_LOCK_TIMEOUT:-300}s (another up/down/restart running?)"
    exit 1
  }
}

# ---------------------------------------------------------------- Kafka ----

kafka_pid() { pid_of "$KAFKA_PIDFILE" 'kafka.Kafka'; }

kafka_fetch_jars() {
  local stamp="$KAFKA_LIBS/.complete" want="kafka_${KAFKA_SCALA}:${KAFKA_VERSION}"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || { err "kafka: mvn not found (apt-get install -y maven)"; return 1; }
  command -v java >/dev/null || { err "kafka: java not found (Java 17+ needed)"; return 1; }
  log "kafka: downloading jars for $want (first run only)…"
  local t0 pom="$KAFKA_HOME/pom.xml"
  t0="$(now_ms)"
  mkdir -p "$KAFKA_HOME"
  local logging
  case "$KAFKA_VERSION" in
    3.*) logging="
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>" ;;
    *) logging="
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>" ;;
  esac
  cat >"$pom" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/services/lib.sh: fetches the Kafka broker and a logging binding -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sentencify</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${KAFKA_SCALA}</artifactId><version>${KAFKA_VERSION}</version></dependency>${logging}
  </dependencies>
</project>
EOF
  rm -rf "$KAFKA_LIBS.tmp"
  local mvn_args=(-B -q -f "$pom")
  [[ -n "${MAVEN_REPO_LOCAL:-}" ]] && mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
  if ! mvn "${mvn_args[@]}" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
    err "kafka: maven download failed; tail of $KAFKA_HOME/mvn.log:"
    tail -n 30 "$KAFKA_HOME/mvn.log" >&2
    return 1
  fi
  rm -rf "$KAFKA_LIBS" "$KAFKA_CDS_ARCHIVE"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  printf '%s\n' "$want" >"$stamp"
  log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) in $(elapsed "$t0")"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA"
  cat >"$KAFKA_PROPS" <<EOF
# generated by scripts/services/lib.sh — single-node KRaft broker for tests
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${KAFKA_DATA}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=${KAFKA_AUTO_CREATE_TOPICS}
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill -9 the restarted broker cannot re-register until the controller
# expires the old registration's session (default 9 s): keep that short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2500
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=16777216
log.retention.hours=24
log.cleaner.dedupe.buffer.size=8388608
log.cleaner.threads=1
EOF
  cat >"$KAFKA_LOG4J" <<'EOF'
# generated by scripts/services/lib.sh — quiet-ish: warnings plus start/stop lines
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.Kafka=INFO
log4j.logger.org.apache.kafka.clients=ERROR
# "Performing controller activation" WARN on every start is expected
log4j.logger.org.apache.kafka.controller.QuorumController=ERROR
EOF
  # Kafka 4.x uses log4j2: same intent in its format.
  cat >"$KAFKA_HOME/log4j2.properties" <<'EOF'
status=warn
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=warn
rootLogger.appenderRef.stdout.ref=STDOUT
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=info
logger.broker.name=kafka.server.BrokerServer
logger.broker.level=info
EOF
}

# java command line shared by the broker and StorageTool
kafka_java_cmd() {
  # shellcheck disable=SC2206
  KAFKA_JAVA_CMD=(java $KAFKA_HEAP $KAFKA_JVM_OPTS -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$KAFKA_LOG4J" "-Dlog4j2.configurationFile=$KAFKA_HOME/log4j2.properties"
    -cp "$KAFKA_LIBS/*")
}
kafka_java() { kafka_java_cmd; "${KAFKA_JAVA_CMD[@]}" "$@"; }

kafka_format() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local id_file="$KAFKA_HOME/cluster.id" id
  if [[ ! -s "$id_file" ]]; then
    kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_HOME/format.log" | tail -n 1 >"$id_file"
  fi
  id="$(cat "$id_file")"
  log "kafka: formatting storage (cluster id $id)"
  if ! kafka_java kafka.tools.StorageTool format -t "$id" -c "$KAFKA_PROPS" --ignore-formatted \
      >>"$KAFKA_HOME/format.log" 2>&1; then
    err "kafka: storage format failed; tail of $KAFKA_HOME/format.log:"
    tail -n 20 "$KAFKA_HOME/format.log" >&2
    return 1
  fi
}

# True when the broker answers a Metadata request. Uses kafkajs from the
# project's node_modules when present, else falls back to the broker's
# "Kafka Server started" log line after the port opened.
kafka_answers() {
  port_open "$KAFKA_PORT" || return 1
  if [[ -d "$PROJECT_ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null; then
    KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" timeout 15 node "$SERVICES_SCRIPT_DIR/kafka-ready.mjs" >/dev/null 2>&1
  else
    grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null
  fi
}

# kafka_wait_ready PID T0_MS [LOG_OFFSET]: with LOG_OFFSET, first wait for this
# start's "Kafka Server started" line (cheap), then confirm with a metadata request.
kafka_log_tail() {
  if [[ -n "${1:-}" ]]; then tail -c "+$(($1 + 1))" "$KAFKA_LOG"; else cat "$KAFKA_LOG"; fi 2>/dev/null | tail -n 40 >&2
}

kafka_wait_ready() {
  local pid="$1" t0="$2" off="${3:-}" deadline
  deadline=$(($(date +%s) + KAFKA_READY_TIMEOUT))
  while (($(date +%s) < deadline)); do
    if ! pid_alive "$pid"; then
      err "kafka: broker exited during start-up; tail of $KAFKA_LOG:"
      kafka_log_tail "$off"
      rm -f "$KAFKA_PIDFILE"
      return 1
    fi
    if [[ -n "$off" ]] && ! tail -c "+$((off + 1))" "$KAFKA_LOG" 2>/dev/null | grep -q 'Kafka Server started'; then
      sleep 0.2
      continue
    fi
    if kafka_answers; then
      log "kafka: ready on 127.0.0.1:$KAFKA_PORT in $(elapsed "$t0") (pid $pid, RSS $(rss_of "$pid"))"
      return 0
    fi
    sleep 0.3
  done
  err "kafka: not ready after ${KAFKA_READY_TIMEOUT}s; tail of $KAFKA_LOG:"
  kafka_log_tail "$off"
  err "kafka: killing the unready broker (pid $pid)"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$KAFKA_PIDFILE"
  return 1
}

kafka_start() {
  local pid owner t0
  if pid="$(kafka_pid)"; then
    if kafka_answers; then
      log "kafka: already running on 127.0.0.1:$KAFKA_PORT (pid $pid)"
      return 0
    fi
    log "kafka: pid $pid alive but not answering yet, waiting"
    kafka_wait_ready "$pid" "$(now_ms)"
    return
  fi
  rm -f "$KAFKA_PIDFILE"
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      owner="$(port_owner "$p")"
      err "kafka: port $p is already in use by another process${owner:+ (pid $owner)}; set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
      return 1
    fi
  done
  kafka_fetch_jars
  kafka_write_config
  kafka_format
  # keep the log from growing without bound across many restarts
  if [[ -f "$KAFKA_LOG" ]] && (($(stat -c %s "$KAFKA_LOG") > 20971520)); then mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"; fi
  log "kafka: starting broker $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  t0="$(now_ms)"
  local off
  off="$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)"
  printf '\n===== start %s =====\n' "$(date -Is)" >>"$KAFKA_LOG"
  kafka_java_cmd
  local cds=()
  if [[ "$KAFKA_CDS" == 1 ]]; then
    if [[ -s "$KAFKA_CDS_ARCHIVE" ]]; then
      cds=("-XX:SharedArchiveFile=$KAFKA_CDS_ARCHIVE" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
    else
      rm -f "$KAFKA_CDS_ARCHIVE"
      cds=("-XX:ArchiveClassesAtExit=$KAFKA_CDS_ARCHIVE" -Xlog:cds=off -Xlog:cds+dynamic=off)
    fi
  fi
  KAFKA_JAVA_CMD=("${KAFKA_JAVA_CMD[0]}" "${cds[@]}" "${KAFKA_JAVA_CMD[@]:1}")
  (
    cd "$KAFKA_HOME"
    exec 9>&- # do not hand the services lock to the broker
    exec setsid nohup "${KAFKA_JAVA_CMD[@]}" kafka.Kafka "$KAFKA_PROPS" >>"$KAFKA_LOG" 2>&1 </dev/null
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PIDFILE"
  kafka_wait_ready "$pid" "$t0" "$off"
}

# kafka_stop [TERM|KILL]
kafka_stop() {
  local sig="${1:-TERM}" pid
  if pid="$(kafka_pid)"; then
    stop_pid kafka "$pid" "$KAFKA_STOP_TIMEOUT" "$sig"
    wait_ports_closed 10 "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" || err "kafka: ports still open 10 s after stop"
  else
    log "kafka: not running"
  fi
  rm -f "$KAFKA_PIDFILE"
}

# ---------------------------------------------------------------- Redis ----

redis_pid() { pid_of "$REDIS_PIDFILE" 'redis-server'; }

redis_answers() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_install() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  if [[ "$(id -u)" != 0 ]]; then
    err "redis: redis-server is not installed and this is not root; run: sudo apt-get install -y redis-server"
    return 1
  fi
  log "redis: installing redis-server with apt-get (first run only)…"
  local t0 made_policy=""
  t0="$(now_ms)"
  # Keep the package's init script from starting a system-wide redis on 6379.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >"$REDIS_HOME/apt.log" 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$REDIS_HOME/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >>"$REDIS_HOME/apt.log" 2>&1
  } || rc=$?
  [[ -n "$made_policy" ]] && rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)) || ! command -v redis-server >/dev/null; then
    err "redis: apt-get install failed; tail of $REDIS_HOME/apt.log:"
    tail -n 20 "$REDIS_HOME/apt.log" >&2
    return 1
  fi
  log "redis: installed $(redis-server --version | grep -o 'v=[0-9.]*') in $(elapsed "$t0")"
}

redis_start() {
  local pid owner t0 i
  mkdir -p "$REDIS_HOME"
  if pid="$(redis_pid)" && command -v redis-cli >/dev/null && redis_answers; then
    log "redis: already running on 127.0.0.1:$REDIS_PORT (pid $pid)"
    return 0
  fi
  redis_install
  if [[ -z "${pid:-}" ]]; then
    rm -f "$REDIS_PIDFILE"
    if port_open "$REDIS_PORT"; then
      owner="$(port_owner "$REDIS_PORT")"
      err "redis: port $REDIS_PORT is already in use by another process${owner:+ (pid $owner)}; set REDIS_PORT"
      return 1
    fi
    t0="$(now_ms)"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --dir "$REDIS_HOME" </dev/null 9>&-
  else
    t0="$(now_ms)"
  fi
  for ((i = 0; i < REDIS_READY_TIMEOUT * 10; i++)); do
    if redis_answers && pid="$(redis_pid)"; then
      log "redis: ready on 127.0.0.1:$REDIS_PORT in $(elapsed "$t0") (pid $pid, RSS $(rss_of "$pid"))"
      return 0
    fi
    sleep 0.1
  done
  err "redis: not ready after ${REDIS_READY_TIMEOUT}s; tail of $REDIS_LOG:"
  tail -n 30 "$REDIS_LOG" >&2 2>/dev/null || true
  return 1
}

redis_stop() {
  local pid
  if pid="$(redis_pid)"; then
    stop_pid redis "$pid" "$REDIS_STOP_TIMEOUT" TERM
    wait_ports_closed 5 "$REDIS_PORT" || err "redis: port still open 5 s after stop"
  else
    log "redis: not running"
  fi
  rm -f "$REDIS_PIDFILE"
}

# ------------------------------------------------------ Schema Registry ----

registry_pid() { pid_of "$REGISTRY_PIDFILE" 'apicurio-registry-app'; }

registry_answers() { curl -sf -m 2 -o /dev/null "$REGISTRY_URL/subjects" 2>/dev/null; }

registry_jar() { find "$REGISTRY_APP" -maxdepth 1 -name 'apicurio-registry-app-*-runner.jar' 2>/dev/null | head -1; }

# The app tarball, resolved by Maven like the Kafka jars (so through whatever repository Maven is
# set up to use). Its parent pom is not published: `dependency:copy` and 3.x's `get` refuse the
# artifact for that, 2.8's `get` without transitive dependencies only warns about it.
registry_fetch() {
  local stamp="$REGISTRY_APP/.complete" want="apicurio-registry-app:$REGISTRY_VERSION"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || { err "registry: mvn not found (apt-get install -y maven)"; return 1; }
  command -v java >/dev/null || { err "registry: java not found (Java 17+ needed)"; return 1; }
  local t0 repo tgz
  t0="$(now_ms)"
  repo="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"
  tgz="$repo/io/apicurio/apicurio-registry-app/$REGISTRY_VERSION/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
  mkdir -p "$REGISTRY_HOME"
  log "registry: downloading Apicurio Registry $REGISTRY_VERSION (~105 MB, first run only)…"
  if ! mvn -B -q "-Dmaven.repo.local=$repo" \
      org.apache.maven.plugins:maven-dependency-plugin:2.8:get \
      "-Dartifact=io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all" -Dtransitive=false \
      >"$REGISTRY_HOME/mvn.log" 2>&1 || [[ ! -s "$tgz" ]]; then
    err "registry: maven download failed; tail of $REGISTRY_HOME/mvn.log:"
    tail -n 30 "$REGISTRY_HOME/mvn.log" >&2
    return 1
  fi
  rm -rf "$REGISTRY_APP.tmp"
  mkdir -p "$REGISTRY_APP.tmp"
  tar xzf "$tgz" -C "$REGISTRY_APP.tmp" || { err "registry: could not unpack $tgz"; return 1; }
  rm -rf "$REGISTRY_APP"
  mv "$REGISTRY_APP.tmp" "$REGISTRY_APP"
  printf '%s\n' "$want" >"$stamp"
  log "registry: $(du -sh "$REGISTRY_APP" | cut -f1) unpacked in $(elapsed "$t0")"
}

registry_start() {
  local pid owner t0 off jar deadline
  mkdir -p "$REGISTRY_HOME"
  if pid="$(registry_pid)"; then
    if registry_answers; then
      log "registry: already running at $REGISTRY_URL (pid $pid)"
      return 0
    fi
    log "registry: pid $pid alive but not answering yet, waiting"
    t0="$(now_ms)"
  else
    rm -f "$REGISTRY_PIDFILE"
    if port_open "$REGISTRY_PORT"; then
      owner="$(port_owner "$REGISTRY_PORT")"
      err "registry: port $REGISTRY_PORT is already in use by another process${owner:+ (pid $owner)}; set REGISTRY_PORT"
      return 1
    fi
    registry_fetch || return 1
    jar="$(registry_jar)"
    [[ -n "$jar" ]] || { err "registry: no *-runner.jar in $REGISTRY_APP"; return 1; }
    if [[ -f "$REGISTRY_LOG" ]] && (($(stat -c %s "$REGISTRY_LOG") > 20971520)); then mv -f "$REGISTRY_LOG" "$REGISTRY_LOG.1"; fi
    log "registry: starting Apicurio Registry $REGISTRY_VERSION (in-memory) on 127.0.0.1:$REGISTRY_PORT"
    t0="$(now_ms)"
    off="$(stat -c %s "$REGISTRY_LOG" 2>/dev/null || echo 0)"
    printf '\n===== start %s =====\n' "$(date -Is)" >>"$REGISTRY_LOG"
    (
      cd "$REGISTRY_APP"
      exec 9>&- # do not hand the services lock to the registry
      # shellcheck disable=SC2086
      exec setsid nohup java $REGISTRY_HEAP $REGISTRY_JVM_OPTS -Djava.awt.headless=true \
        -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$REGISTRY_PORT" \
        -jar "$jar" >>"$REGISTRY_LOG" 2>&1 </dev/null
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$REGISTRY_PIDFILE"
  fi
  deadline=$(($(date +%s) + REGISTRY_READY_TIMEOUT))
  while (($(date +%s) < deadline)); do
    if ! pid_alive "$pid"; then
      err "registry: exited during start-up; tail of $REGISTRY_LOG:"
      tail -c "+$((${off:-0} + 1))" "$REGISTRY_LOG" 2>/dev/null | tail -n 40 >&2
      rm -f "$REGISTRY_PIDFILE"
      return 1
    fi
    if registry_answers; then
      log "registry: ready at $REGISTRY_URL in $(elapsed "$t0") (pid $pid, RSS $(rss_of "$pid"))"
      return 0
    fi
    sleep 0.2
  done
  err "registry: not ready after ${REGISTRY_READY_TIMEOUT}s; tail of $REGISTRY_LOG:"
  tail -c "+$((${off:-0} + 1))" "$REGISTRY_LOG" 2>/dev/null | tail -n 40 >&2
  err "registry: killing the unready registry (pid $pid)"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$REGISTRY_PIDFILE"
  return 1
}

registry_stop() {
  local pid
  if pid="$(registry_pid)"; then
    stop_pid registry "$pid" "$REGISTRY_STOP_TIMEOUT" TERM
    wait_ports_closed 10 "$REGISTRY_PORT" || err "registry: port still open 10 s after stop"
  else
    log "registry: not running"
  fi
  rm -f "$REGISTRY_PIDFILE"
}

# ------------------------------------------------------------- env file ----

# Rewrites .services.env with the services that are currently running.
write_env_file() {
  local tmp="$SERVICES_ENV_FILE.tmp.$$"
  {
    echo "# written by scripts/services/up.sh — services on 127.0.0.1 (removed by down.sh)"
    if kafka_pid >/dev/null; then echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"; fi
    if redis_pid >/dev/null; then echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"; fi
    if registry_pid >/dev/null; then echo "SCHEMA_REGISTRY_URL=$REGISTRY_URL"; fi
    local m
    for m in "${SERVICE_MODULES[@]}"; do
      if "${m}_pid" >/dev/null; then "${m}_env"; fi
    done
  } >"$tmp"
  if ! grep -q '^[A-Z]' "$tmp"; then
    rm -f "$tmp" "$SERVICES_ENV_FILE"
  else
    mv -f "$tmp" "$SERVICES_ENV_FILE"
  fi
}

# parse_only ARGS... -> sets WANT_KAFKA / WANT_REDIS / WANT_REGISTRY, WANT_<MODULE> for every
# service module (and ONLY_GIVEN) and leaves other args in REST_ARGS. The registry is opt-in:
# --with-registry, SERVICES_REGISTRY=1 or --only registry. The modules (MongoDB, Elasticsearch,
# Qdrant) are on by default; --without NAME[,NAME] (or SERVICES_WITHOUT=NAME,…) leaves them out.
parse_only() {
  WANT_KAFKA=1 WANT_REDIS=1 WANT_REGISTRY="${SERVICES_REGISTRY:-0}" ONLY_GIVEN=0 REST_ARGS=()
  local m only without="${SERVICES_WITHOUT:-}"
  for m in "${SERVICE_MODULES[@]}"; do printf -v "WANT_${m^^}" 1; done
  # The local models (models.sh) are opt-in like the registry: --with-models or SERVICES_MODELS=1.
  WANT_MODELS="${SERVICES_MODELS:-0}"
  while (($#)); do
    case "$1" in
      --only) shift; only="${1:-}" ;;
      --only=*) only="${1#--only=}" ;;
      --with-registry) WANT_REGISTRY=1; shift; continue ;;
      --with-models) WANT_MODELS=1; shift; continue ;;
      --without) shift; without="$without,${1:-}"; if (($#)); then shift; fi; continue ;;
      --without=*) without="$without,${1#--without=}"; shift; continue ;;
      *) REST_ARGS+=("$1"); shift; continue ;;
    esac
    WANT_KAFKA=0 WANT_REDIS=0 WANT_REGISTRY=0
    for m in "${SERVICE_MODULES[@]}"; do printf -v "WANT_${m^^}" 0; done
    case "$only" in
      kafka) WANT_KAFKA=1 ;;
      redis) WANT_REDIS=1 ;;
      registry) WANT_REGISTRY=1 ;;
      *)
        if [[ " ${SERVICE_MODULES[*]} " == *" $only "* ]]; then printf -v "WANT_${only^^}" 1
        else err "--only takes kafka, redis, registry or one of: ${SERVICE_MODULES[*]}"; exit 2; fi ;;
    esac
    ONLY_GIVEN=1
    if (($#)); then shift; fi
  done
  local w
  IFS=',' read -ra w <<<"$without"
  for m in "${w[@]}"; do
    [[ -z "$m" ]] && continue
    if [[ " ${SERVICE_MODULES[*]} " == *" $m "* ]]; then printf -v "WANT_${m^^}" 0
    else err "--without takes: ${SERVICE_MODULES[*]}"; exit 2; fi
  done
}

# ------------------------------------------------------- service modules ----
# Each optional server lives in scripts/services/<name>.sh and defines <name>_start,
# <name>_stop, <name>_pid (prints the pid, fails when not running), <name>_env (prints its
# .services.env lines) and optionally <name>_clean (removes its data, keeps cached downloads).
SERVICE_MODULES=()
for _m in mongo elasticsearch qdrant models; do
  if [[ -f "$SERVICES_SCRIPT_DIR/$_m.sh" ]]; then
    # shellcheck source=/dev/null
    source "$SERVICES_SCRIPT_DIR/$_m.sh"
    SERVICE_MODULES+=("$_m")
  fi
done
unset _m
