#!/usr/bin/env bash
# For test/integration/deploy-podman.test.ts: makes sure Debian's podman is installed and that
# Podman's image store holds the local busybox image (imported from the host's busybox, like
# scripts/ensure-docker.sh does for Docker: nothing is pulled). Idempotent. The test starts and
# stops Podman's API service itself (`podman system service --time=0 unix://…`).
set -euo pipefail

IMAGE=${DSTB_IMAGE:-dstb-busybox:latest}
say() { printf 'ensure-podman: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v podman >/dev/null 2>&1 || ! command -v busybox >/dev/null 2>&1; then
  say "installing podman and busybox-static from Debian"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq podman busybox-static >/dev/null
fi

if ! podman image exists "$IMAGE"; then
  say "importing $IMAGE into podman from the host's busybox"
  bash "$(dirname "$0")/busybox-rootfs.sh" | podman import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
fi
say "podman $(podman version --format '{{.Client.Version}}') has $IMAGE"
