# shellcheck shell=bash
# Service module (sourced by lib.sh): a local Qdrant peer — Qdrant's own engine (PyPI
# qdrant-edge-py) behind a small REST front (scripts/services/qdrant/server.py) that serves the part
# of the Qdrant REST API @qdrant/js-client-rest uses here. Not the Qdrant server: see docs/qdrant.md.
# The venv lives in $SERVICES_DIR/qdrant/venv (pip's own cache makes a fresh clone's install quick).
#
# Env: QDRANT_PORT (16333) QDRANT_PYTHON (python3.11) QDRANT_READY_TIMEOUT (30) QDRANT_STOP_TIMEOUT (10)

QDRANT_PORT="${QDRANT_PORT:-16333}"
QDRANT_PYTHON="${QDRANT_PYTHON:-python3.11}"
QDRANT_READY_TIMEOUT="${QDRANT_READY_TIMEOUT:-30}"
QDRANT_STOP_TIMEOUT="${QDRANT_STOP_TIMEOUT:-10}"
QDRANT_HOME="$SERVICES_DIR/qdrant"
QDRANT_VENV="$QDRANT_HOME/venv"
QDRANT_DATA="$QDRANT_HOME/data"
QDRANT_LOG="$QDRANT_HOME/qdrant.log"
QDRANT_PIDFILE="$SERVICES_DIR/qdrant.pid"
QDRANT_SERVER="$SERVICES_SCRIPT_DIR/qdrant/server.py"
QDRANT_REQUIREMENTS="$SERVICES_SCRIPT_DIR/qdrant/requirements.txt"

qdrant_pid() { pid_of "$QDRANT_PIDFILE" 'qdrant/server.py'; }

qdrant_answers() { curl -sf -m 2 -o /dev/null "http://127.0.0.1:$QDRANT_PORT/readyz" 2>/dev/null; }

# The venv is rebuilt when requirements.txt changes (its content is the stamp).
qdrant_install() {
  local stamp="$QDRANT_VENV/.complete" t0
  if [[ -f "$stamp" ]] && cmp -s "$stamp" "$QDRANT_REQUIREMENTS"; then return 0; fi
  command -v "$QDRANT_PYTHON" >/dev/null || { err "qdrant: $QDRANT_PYTHON not found (set QDRANT_PYTHON)"; return 1; }
  log "qdrant: creating the venv with $QDRANT_PYTHON and installing $(tr '\n' ' ' <"$QDRANT_REQUIREMENTS")(first run only)…"
  t0="$(now_ms)"
  mkdir -p "$QDRANT_HOME"
  rm -rf "$QDRANT_VENV"
  if ! { "$QDRANT_PYTHON" -m venv "$QDRANT_VENV" &&
    "$QDRANT_VENV/bin/pip" install -q --disable-pip-version-check -r "$QDRANT_REQUIREMENTS"; } >"$QDRANT_HOME/pip.log" 2>&1; then
    err "qdrant: venv install failed; tail of $QDRANT_HOME/pip.log:"
    tail -n 30 "$QDRANT_HOME/pip.log" >&2
    return 1
  fi
  cp "$QDRANT_REQUIREMENTS" "$stamp"
  log "qdrant: venv ($(du -sh "$QDRANT_VENV" | cut -f1)) ready in $(elapsed "$t0")"
}

qdrant_start() {
  local pid owner t0 off deadline
  mkdir -p "$QDRANT_HOME"
  if pid="$(qdrant_pid)"; then
    if qdrant_answers; then
      log "qdrant: already running on 127.0.0.1:$QDRANT_PORT (pid $pid)"
      return 0
    fi
    log "qdrant: pid $pid alive but not answering yet, waiting"
    t0="$(now_ms)"
  else
    rm -f "$QDRANT_PIDFILE"
    if port_open "$QDRANT_PORT"; then
      owner="$(port_owner "$QDRANT_PORT")"
      err "qdrant: port $QDRANT_PORT is already in use by another process${owner:+ (pid $owner)}; set QDRANT_PORT"
      return 1
    fi
    qdrant_install || return 1
    if [[ -f "$QDRANT_LOG" ]] && (($(stat -c %s "$QDRANT_LOG") > 20971520)); then mv -f "$QDRANT_LOG" "$QDRANT_LOG.1"; fi
    log "qdrant: starting the local peer (qdrant-edge) on 127.0.0.1:$QDRANT_PORT"
    t0="$(now_ms)"
    off="$(stat -c %s "$QDRANT_LOG" 2>/dev/null || echo 0)"
    printf '\n===== start %s =====\n' "$(date -Is)" >>"$QDRANT_LOG"
    mkdir -p "$QDRANT_DATA"
    (
      exec 9>&- # do not hand the services lock to the peer
      exec setsid nohup "$QDRANT_VENV/bin/python" -u "$QDRANT_SERVER" --host 127.0.0.1 --port "$QDRANT_PORT" \
        --data "$QDRANT_DATA" >>"$QDRANT_LOG" 2>&1 </dev/null
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$QDRANT_PIDFILE"
  fi
  deadline=$(($(date +%s) + QDRANT_READY_TIMEOUT))
  while (($(date +%s) < deadline)); do
    if ! pid_alive "$pid"; then
      err "qdrant: exited during start-up; tail of $QDRANT_LOG:"
      tail -c "+$((${off:-0} + 1))" "$QDRANT_LOG" 2>/dev/null | tail -n 30 >&2
      rm -f "$QDRANT_PIDFILE"
      return 1
    fi
    if qdrant_answers; then
      log "qdrant: ready on 127.0.0.1:$QDRANT_PORT in $(elapsed "$t0") (pid $pid, RSS $(rss_of "$pid"))"
      return 0
    fi
    sleep 0.1
  done
  err "qdrant: not ready after ${QDRANT_READY_TIMEOUT}s; tail of $QDRANT_LOG:"
  tail -c "+$((${off:-0} + 1))" "$QDRANT_LOG" 2>/dev/null | tail -n 30 >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$QDRANT_PIDFILE"
  return 1
}

qdrant_stop() {
  local pid
  if pid="$(qdrant_pid)"; then
    stop_pid qdrant "$pid" "$QDRANT_STOP_TIMEOUT" TERM
    wait_ports_closed 5 "$QDRANT_PORT" || err "qdrant: port still open 5 s after stop"
  else
    log "qdrant: not running"
  fi
  rm -f "$QDRANT_PIDFILE"
}

qdrant_env() { echo "QDRANT_URL=http://127.0.0.1:$QDRANT_PORT"; }

qdrant_clean() { rm -rf "$QDRANT_DATA"; log "qdrant: data removed (venv kept in $QDRANT_VENV)"; }
