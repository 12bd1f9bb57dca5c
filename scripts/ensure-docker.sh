#!/usr/bin/env bash
# Makes sure a local Docker Engine answers on /var/run/docker.sock and that the local busybox image
# the demo and the tests use exists. Idempotent: installs (Debian's docker.io + busybox-static) only
# what is missing, starts dockerd only when no Engine answers, builds the image only when absent.
# Nothing is pulled from a registry: the image is imported from the host's static busybox.
set -euo pipefail

IMAGE=${DSTB_IMAGE:-dstb-busybox:latest}
SOCK=/var/run/docker.sock
LOG=${DSTB_DOCKERD_LOG:-/var/log/dstb-dockerd.log}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_dockerd() {
  # A dockerd that was killed (a previous session) leaves its pid files behind, and a new dockerd
  # refuses to start while they exist.
  as_root rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
  say "starting dockerd (log: $LOG)"
  # containerd is started by dockerd itself when none runs.
  as_root sh -c "nohup dockerd --host=unix://$SOCK >>'$LOG' 2>&1 </dev/null &"
}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v busybox >/dev/null 2>&1; then
  say "installing docker.io and busybox-static from Debian"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if ! engine_answers; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    say "DOCKER_HOST=$DOCKER_HOST does not answer; starting a local dockerd on $SOCK instead"
    unset DOCKER_HOST
  fi
  if ! engine_answers; then
    started=no
    for _ in $(seq 1 240); do
      engine_answers && break
      # A dockerd that is still shutting down or starting up is waited for; with none running, a
      # new one is started (once).
      if [ "$started" = no ] && ! pgrep -x dockerd >/dev/null 2>&1; then
        start_dockerd
        started=yes
      fi
      sleep 0.5
    done
    if ! engine_answers; then
      say "dockerd did not answer within 120 s; last lines of $LOG:"
      tail -n 30 "$LOG" >&2 || true
      exit 1
    fi
  fi
fi
say "Docker Engine $(docker version --format '{{.Server.Version}}') answers on $SOCK"

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "building local image $IMAGE from the host's busybox"
  bash "$(dirname "$0")/busybox-rootfs.sh" | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
fi
say "image $IMAGE is ready"
