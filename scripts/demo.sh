#!/usr/bin/env bash
# Quick start: makes sure a local Docker Engine runs with two demo containers, builds the daemon and
# runs it against that Engine. With no --backstop it prints the carbon lines it would send.
# Extra arguments go to the daemon (for example --once, --poll 30s, --backstop URL).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prepare.sh

image=${DSTB_IMAGE:-dstb-busybox:latest}
demo() {
  local name=$1; shift
  if [ -z "$(docker ps -q --filter "name=^/${name}\$")" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --label dstb.demo=1 --memory 64m "$image" "$@" >/dev/null
    echo "demo: started container $name" >&2
  fi
}
# A busy one (a shell loop burning some CPU) and an idle one, named the way the rewrite rules expect.
demo demo.web.frontend.1 sh -c 'while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1; done'
demo demo.db.postgres.1 sleep 2147483647
echo "demo: remove them with: docker rm -f demo.web.frontend.1 demo.db.postgres.1" >&2

exec node dist/main.js --poll 10s \
  --prefix '{"regexp":"(.*)\\..*\\.(.*)\\..*","into":"$1.$2"}' "$@"
