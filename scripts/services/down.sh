#!/usr/bin/env bash
# Stop the services started by up.sh (SIGTERM, then SIGKILL after a timeout).
#
#   scripts/services/down.sh [--only kafka|redis|registry] [--clean]
#
# Without --only it stops everything up.sh started, the Schema Registry included.
# --clean also deletes the data dirs (Kafka log dirs + cluster id, Redis dir; the
# registry keeps its schemas in memory only); the cached Kafka jars in
# .services/kafka/libs and the registry app in .services/registry/app are kept.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_only "$@"
if ! ((ONLY_GIVEN)); then
  WANT_REGISTRY=1
  for m in "${SERVICE_MODULES[@]}"; do printf -v "WANT_${m^^}" 1; done
fi
CLEAN=0
for a in "${REST_ARGS[@]+"${REST_ARGS[@]}"}"; do
  case "$a" in
    --clean) CLEAN=1 ;;
    *) err "usage: $0 [--only kafka|redis|registry] [--clean]"; exit 2 ;;
  esac
done

services_lock
if ((WANT_KAFKA)); then
  kafka_stop TERM
  if ((CLEAN)); then
    rm -rf "$KAFKA_DATA" "$KAFKA_HOME/cluster.id" "$KAFKA_HOME/format.log"
    log "kafka: data removed (jars kept in $KAFKA_LIBS)"
  fi
fi
if ((WANT_REDIS)); then
  redis_stop
  if ((CLEAN)); then rm -rf "$REDIS_HOME"; log "redis: data removed"; fi
fi
if ((WANT_REGISTRY)); then registry_stop; fi
for m in "${SERVICE_MODULES[@]}"; do
  want="WANT_${m^^}"
  if ((${!want})); then
    "${m}_stop"
    if ((CLEAN)) && declare -F "${m}_clean" >/dev/null; then "${m}_clean"; fi
  fi
done
write_env_file
