#!/usr/bin/env bash
# Contract test: schemathesis (from PyPI, in a cached venv under .cache/) against the embedded API
# (`npm start` on a short evaluation, with an API key of every scope so the auth checks run too),
# fuzzing every operation of /openapi.json with --checks all. Exits non-zero on any failure.
#   SCHEMATHESIS_MAX_EXAMPLES (default 60): examples per operation and phase; CI stays ~2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV=.cache/schemathesis-$VERSION
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-60}
LOG=.cache/schemathesis-api.log
mkdir -p .cache

if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
  echo "schemathesis: installing $VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION"
fi

KEY="schemathesis-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# Its own process group, so the trap stops npm start and everything under it.
API_KEYS="schemathesis:$KEY:events|profiles|admin" setsid npx tsx main.ts --sessions 40 --port 0 \
  --report .cache/schemathesis-evaluation.json >"$LOG" 2>&1 &
api=$!
trap 'kill -- -"$api" 2>/dev/null || true' EXIT

port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's|.*API on http://127.0.0.1:\([0-9]*\).*|\1|p' "$LOG" | head -1)
  if [ -n "$port" ] && curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$api" 2>/dev/null; then
    echo "schemathesis: the embedded API exited before it was ready:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
if [ -z "$port" ] || ! curl -fs "http://127.0.0.1:$port/ready" >/dev/null; then
  echo "schemathesis: the embedded API was not ready within 5 minutes" >&2
  tail -20 "$LOG" >&2
  exit 1
fi
echo "schemathesis: embedded API ready on port $port; $MAX_EXAMPLES examples per operation"

"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --header "Authorization: Bearer $KEY" \
  --seed 1 \
  --no-color
