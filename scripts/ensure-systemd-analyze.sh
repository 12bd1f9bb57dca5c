#!/usr/bin/env bash
# Makes sure systemd-analyze (Debian's systemd package, 252 or later for `security --offline`) is
# installed, for test/integration/deploy-systemd.test.ts. systemd need not be running.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "ensure-systemd-analyze: installing systemd from Debian (for systemd-analyze)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq systemd >/dev/null
fi
systemd-analyze security --help | grep -q -- '--offline' || {
  echo "ensure-systemd-analyze: $(systemd-analyze --version | head -1) has no 'security --offline' (needs 252+)" >&2
  exit 1
}
