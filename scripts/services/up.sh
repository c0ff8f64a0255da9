#!/usr/bin/env bash
# Start (installing/downloading on first run) a single-node KRaft Kafka broker and
# redis-server on 127.0.0.1, idempotently, then write <project>/.services.env.
# With --with-registry (or SERVICES_REGISTRY=1) also an Apicurio Schema Registry,
# written to .services.env as SCHEMA_REGISTRY_URL. The service modules in this folder
# (mongo.sh, elasticsearch.sh, qdrant.sh) start by default; --without NAME,… leaves them out.
# With --with-models (or SERVICES_MODELS=1) also the local models of models.sh: an embeddings
# server (EMBEDDINGS_API_BASE) and an LLM (LLM_API_BASE).
#
#   scripts/services/up.sh [--only kafka|redis|registry|MODULE] [--with-registry] [--with-models] [--without MODULE,…]
#
# Env: KAFKA_PORT (19092) KAFKA_CONTROLLER_PORT (19093) REDIS_PORT (16379) REGISTRY_PORT (18081)
#      KAFKA_VERSION (3.9.1) KAFKA_HEAP ("-Xms64m -Xmx512m") KAFKA_READY_TIMEOUT (60)
#      KAFKA_AUTO_CREATE_TOPICS (false) MAVEN_REPO_LOCAL (default ~/.m2/repository)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_only "$@"
((${#REST_ARGS[@]} == 0)) || { err "usage: $0 [--only kafka|redis|registry|${SERVICE_MODULES[*]// /|}] [--with-registry] [--with-models] [--without NAME,…]"; exit 2; }

services_lock
T0="$(now_ms)"
rc=0
if ((WANT_REDIS)); then redis_start || rc=1; fi
if ((WANT_KAFKA)); then kafka_start || rc=1; fi
if ((WANT_REGISTRY)); then registry_start || rc=1; fi
for m in "${SERVICE_MODULES[@]}"; do
  want="WANT_${m^^}"
  if ((${!want})); then "${m}_start" || rc=1; fi
done
write_env_file
if ((rc != 0)); then
  err "services: FAILED (see messages above)"
  exit 1
fi
log "services: up in $(elapsed "$T0"); wrote $SERVICES_ENV_FILE:"
grep -v '^#' "$SERVICES_ENV_FILE" | sed 's/^/  /'
