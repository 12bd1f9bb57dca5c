#!/usr/bin/env bash
# Makes sure a server from Debian's packages is installed for a test that runs its own instance (its
# own config, ports and data folder under a temp dir). Used by ensure-carbon.sh, ensure-prometheus.sh,
# ensure-pushgateway.sh and ensure-graphite-web.sh:
#
#   ensure-debian-server.sh SERVICE "BINARY ..." PACKAGE ...
#
# installs the PACKAGEs unless every BINARY is on the PATH (`py:MODULE` stands for a module Debian's
# /usr/bin/python3 must import: a test's helper script uses it), and leaves the package's own SERVICE
# disabled: these tests never use it (without systemd as PID 1 the package starts none), on a host
# with systemd it would take the default port, and an enabled unit of another package makes
# `systemd-analyze verify` of ours warn, through multi-user.target.
# SERVICE `-`: the package has none (graphite-web).
set -euo pipefail
service=$1 bins=$2
shift 2
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=0
for bin in $bins; do
  case $bin in
    py:*) /usr/bin/python3 -c "import ${bin#py:}" >/dev/null 2>&1 || missing=1 ;;
    *) command -v "$bin" >/dev/null 2>&1 || missing=1 ;;
  esac
done
if [ "$missing" = 1 ]; then
  echo "ensure-debian-server: installing $* from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
fi
wants=/etc/systemd/system/multi-user.target.wants/$service.service
if [ "$service" != - ] && [ -e "$wants" ]; then
  as_root systemctl disable "$service.service" >/dev/null 2>&1 || as_root rm -f "$wants"
fi
