#!/usr/bin/env bash
# Builds node-rdkafka (librdkafka's Node binding) for join-kafka.ts's optional librdkafka
# produce-only bound (`--rdkafka`) and prints the folder to load it from. Not a dependency of the
# project: it lives under the git-ignored .cache/rdkafka/, built once against Debian's
# librdkafka-dev (installed with apt when missing and running as root) and the node headers under
# /usr/include/node, so nothing is downloaded beyond the npm and Debian registries.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION=2.16.1
DIR="$ROOT/.cache/rdkafka-$VERSION"

if [[ -f "$DIR/node_modules/node-rdkafka/build/Release/node-librdkafka.node" ]]; then
  printf '%s\n' "$DIR"
  exit 0
fi
if ! dpkg -s librdkafka-dev >/dev/null 2>&1; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "rdkafka: librdkafka-dev is not installed (apt-get install -y librdkafka-dev)" >&2
    exit 1
  fi
  echo "rdkafka: installing Debian's librdkafka-dev…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends librdkafka-dev >/dev/null 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends librdkafka-dev >/dev/null
  }
fi
command -v g++ >/dev/null && command -v make >/dev/null || {
  echo "rdkafka: a C++ toolchain (g++, make) is needed to build node-rdkafka" >&2
  exit 1
}
nodedir=()
if [[ -f /usr/include/node/node_version.h ]]; then nodedir=(--nodedir=/usr); fi
rm -rf "$DIR"
mkdir -p "$DIR"
t0="$(date +%s)"
echo "rdkafka: building node-rdkafka $VERSION against the system librdkafka (first run only)…" >&2
(cd "$DIR" && printf '{"name":"rdkafka-peer","private":true}\n' >package.json &&
  BUILD_LIBRDKAFKA=0 npm install --no-audit --no-fund --foreground-scripts "${nodedir[@]}" \
    "node-rdkafka@$VERSION" >"$DIR/build.log" 2>&1) || {
  echo "rdkafka: the build failed; tail of $DIR/build.log:" >&2
  tail -n 30 "$DIR/build.log" >&2
  exit 1
}
[[ -f "$DIR/node_modules/node-rdkafka/build/Release/node-librdkafka.node" ]] || {
  echo "rdkafka: node-librdkafka.node missing after the build (see $DIR/build.log)" >&2
  exit 1
}
echo "rdkafka: built in $(($(date +%s) - t0)) s" >&2
printf '%s\n' "$DIR"
