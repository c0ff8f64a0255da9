#!/usr/bin/env bash
# Restart only the Kafka broker, keeping its data (for recovery tests).
#
#   scripts/services/restart-kafka.sh              graceful: SIGTERM, wait, start, wait ready
#   scripts/services/restart-kafka.sh --kill       crash: SIGKILL (kill -9), start, wait ready
#   scripts/services/restart-kafka.sh --down-for 5 stay down 5 s before starting again
#   scripts/services/restart-kafka.sh --stop-only  stop and leave it down
#   scripts/services/restart-kafka.sh --kill-only  kill -9 and leave it down
#                                                  (bring back with: up.sh --only kafka)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIG=TERM START=1 DOWN_FOR=0
while (($#)); do
  case "$1" in
    --kill) SIG=KILL ;;
    --stop-only) START=0 ;;
    --kill-only) SIG=KILL START=0 ;;
    --down-for) shift; DOWN_FOR="${1:?--down-for needs seconds}" ;;
    *) err "usage: $0 [--kill] [--down-for SECONDS] [--stop-only|--kill-only]"; exit 2 ;;
  esac
  shift
done

services_lock
kafka_stop "$SIG"
if ((START)); then
  [[ "$DOWN_FOR" == 0 ]] || { log "kafka: staying down for ${DOWN_FOR}s"; sleep "$DOWN_FOR"; }
  kafka_start
fi
write_env_file
