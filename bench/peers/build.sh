#!/usr/bin/env bash
# Builds the benchmark's peers (bench/peers/*) with Maven and prints the path of each runnable jar.
# Cached: a peer is rebuilt only when its pom.xml or sources are newer than its jar (under its
# git-ignored target/). Needs Java 17+ and mvn; jars come from Maven Central through Maven's own
# repository configuration (~/.m2 caches them across clones). MAVEN_REPO_LOCAL overrides ~/.m2.
set -euo pipefail
PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

build_peer() {
  local dir="$PEERS_DIR/$1" jar="$PEERS_DIR/$1/target/$1.jar"
  if [[ -f "$jar" ]] && [[ -z "$(find "$dir/pom.xml" "$dir/src" -newer "$jar" -type f -print -quit)" ]]; then
    printf '%s\n' "$jar"
    return 0
  fi
  command -v mvn >/dev/null || { echo "peers: mvn not found (apt-get install -y maven)" >&2; return 1; }
  command -v java >/dev/null || { echo "peers: java not found (Java 17+ needed)" >&2; return 1; }
  local args=(-B -q -f "$dir/pom.xml" -DskipTests)
  [[ -n "${MAVEN_REPO_LOCAL:-}" ]] && args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
  mkdir -p "$dir/target"
  local t0
  t0="$(date +%s)"
  echo "peers: building $1 with Maven (first run downloads its jars)…" >&2
  if ! mvn "${args[@]}" package >"$dir/target/mvn.log" 2>&1; then
    echo "peers: maven build of $1 failed; tail of $dir/target/mvn.log:" >&2
    tail -n 30 "$dir/target/mvn.log" >&2
    return 1
  fi
  [[ -f "$jar" ]] || { echo "peers: $jar missing after the build" >&2; return 1; }
  echo "peers: built $jar in $(($(date +%s) - t0)) s" >&2
  printf '%s\n' "$jar"
}

if (($# == 0)); then set -- kafka-streams-join; fi
for p in "$@"; do build_peer "$p"; done
