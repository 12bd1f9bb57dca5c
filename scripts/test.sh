#!/usr/bin/env bash
# Runs every test on a bare machine: installs the npm dependencies, makes sure a Docker Engine and
# the local busybox image exist (scripts/ensure-docker.sh), builds, typechecks, then runs the unit
# and integration tests with node's test runner (through tsx). Extra arguments go to the runner.
#
# Two runs (docs/testing.md says why): first the unit files and every integration file that can
# share the machine, DSTB_TEST_JOBS files at a time (default 4); then, one at a time and with
# nothing else running, the integration files listed in ALONE.
set -euo pipefail
cd "$(dirname "$0")/.."

# Integration files that must have the machine to themselves: they restart the Engine or turn it
# into a swarm manager, or they measure a container's CPU % against a half-CPU limit.
ALONE=(engine-restart deploy-swarm optin-groups cgroup-engine cgroup-mode metrics oneshot deploy-podman)
# The longest shared files, started first so that they do not end the run alone.
SLOW=(delivery fault-spool cli deploy-image ticks daemon sink-prometheus signals dashboards churn)
JOBS=${DSTB_TEST_JOBS:-4}

bash scripts/prepare.sh
npx tsc -p test/tsconfig.json --noEmit
# What the tests install for themselves (apt-get), installed here once: files running at once
# would otherwise wait on, or fail at, the same dpkg lock.
for script in $(grep -rhoE 'ensure-[a-z-]+\.sh' test/ | sort -u); do
  [ "$script" = ensure-docker.sh ] || bash "scripts/$script" >/dev/null
done

shopt -s nullglob
is_alone() {
  local name
  name=$(basename "$1" .test.ts)
  for a in "${ALONE[@]}"; do [ "$name" = "$a" ] && return 0; done
  return 1
}
shared=() alone=()
for name in "${SLOW[@]}"; do
  [ -f "test/integration/$name.test.ts" ] && shared+=("test/integration/$name.test.ts")
done
for f in test/integration/*.test.ts; do
  if is_alone "$f"; then alone+=("$f")
  elif [[ " ${shared[*]} " != *" $f "* ]]; then shared+=("$f")
  fi
done
shared+=(test/unit/*.test.ts)
if [ ${#shared[@]} -eq 0 ]; then
  echo "test.sh: no test files found" >&2
  exit 1
fi

runner=(npx tsx --test --test-timeout=300000)
status=0
"${runner[@]}" --test-concurrency="$JOBS" "$@" "${shared[@]}" || status=$?
if [ ${#alone[@]} -gt 0 ]; then
  "${runner[@]}" --test-concurrency=1 "$@" "${alone[@]}" || status=$?
fi
exit "$status"
