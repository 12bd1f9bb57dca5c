#!/usr/bin/env bash
# Runs every test on a bare machine: installs the npm dependencies, makes sure a Docker Engine and
# the local busybox image exist (scripts/ensure-docker.sh), builds, typechecks, lints (npm run lint), then
# runs the unit and integration tests with node's test runner (through tsx). Extra arguments go to the runner.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prepare.sh
npx tsc -p test/tsconfig.json --noEmit
npm run --silent lint

shopt -s nullglob
files=(test/unit/*.test.ts test/integration/*.test.ts)
if [ ${#files[@]} -eq 0 ]; then
  echo "test.sh: no test files found" >&2
  exit 1
fi
exec npx tsx --test --test-concurrency=1 --test-timeout=300000 "$@" "${files[@]}"
