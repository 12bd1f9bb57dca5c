#!/usr/bin/env bash
# Makes sure Debian's graphite-carbon python3-whisper is installed, for test/integration/sink-carbon.test.ts. The test runs
# its own instance (its own config, ports and data folder under a temp dir); the packaged service
# is not used (without systemd as PID 1 the package starts none).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=0
for bin in carbon-cache whisper-fetch; do command -v "$bin" >/dev/null 2>&1 || missing=1; done
if [ "$missing" = 1 ]; then
  echo "ensure-carbon: installing graphite-carbon python3-whisper from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends graphite-carbon python3-whisper >/dev/null
fi
# The package enables its own carbon-cache.service; these tests never use it, and on a host with systemd
# it would take the default port (and Debian's carbon unit makes `systemd-analyze verify` of our
# unit warn, through multi-user.target). Leave it disabled.
if [ -e /etc/systemd/system/multi-user.target.wants/carbon-cache.service ]; then
  as_root systemctl disable carbon-cache.service >/dev/null 2>&1 || as_root rm -f /etc/systemd/system/multi-user.target.wants/carbon-cache.service
fi
