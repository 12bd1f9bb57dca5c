#!/usr/bin/env bash
# What both quick-start commands need on a bare machine: the npm dependencies (installed when
# missing or older than the lock file), a local Docker Engine and the busybox image
# (ensure-docker.sh), and a fresh build in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/ensure-docker.sh
npm run --silent build
