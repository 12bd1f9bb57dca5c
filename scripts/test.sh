#!/usr/bin/env bash
# Runs every test on a bare machine: installs the npm dependencies, makes sure a Docker Engine and
# the local busybox image exist (scripts/ensure-docker.sh), builds, typechecks, then runs the unit
# and integration tests with node's test runner (through tsx). Extra arguments go to the runner.
#
# Three runs, one after the other (docs/testing.md says why): the unit files, two at a time (they
# are CPU-bound); the integration files that can share the machine, DSTB_TEST_JOBS at a time
# (default 4: they mostly wait on real intervals); then, one at a time, the files listed in ALONE.
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
npm run --silent lint
# What the tests install for themselves (apt-get), installed here once: files running at once
# would otherwise wait on, or fail at, the same dpkg lock.
for script in $(grep -rhoE 'ensure-[a-z-]+\.sh' test/ | sort -u); do
  [ "$script" = ensure-docker.sh ] || bash "scripts/$script" >/dev/null
done

shopt -s nullglob
is_alone() {
  local name a
  name=$(basename "$1" .test.ts)
  for a in "${ALONE[@]}"; do [ "$name" = "$a" ] && return 0; done
  return 1
}
unit=(test/unit/*.test.ts) shared=() alone=()
for name in "${SLOW[@]}"; do
  [ -f "test/integration/$name.test.ts" ] && ! is_alone "$name" && shared+=("test/integration/$name.test.ts")
done
for f in test/integration/*.test.ts; do
  if is_alone "$f"; then alone+=("$f")
  elif [[ " ${shared[*]} " != *" $f "* ]]; then shared+=("$f")
  fi
done
if [ $((${#unit[@]} + ${#shared[@]} + ${#alone[@]})) -eq 0 ]; then
  echo "test.sh: no test files found" >&2
  exit 1
fi

# The timeout holds for a whole file as well as for each test in it.
runner=(npx tsx --test --test-timeout=600000)
status=0
run() {
  local jobs=$1 what=$2 start=$SECONDS
  shift 2
  [ $# -gt 0 ] || return 0
  "${runner[@]}" --test-concurrency="$jobs" "${extra[@]}" "$@" || status=$?
  echo "# test.sh: $what: $# files, $jobs at a time, $((SECONDS - start)) s"
}
extra=("$@")
run 2 unit "${unit[@]}"
run "$JOBS" "integration, shared" "${shared[@]}"
run 1 "integration, alone" "${alone[@]}"
exit "$status"
