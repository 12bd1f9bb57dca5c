#!/usr/bin/env bash
# Debian's netdata-core (the netdata daemon and its cgroups collector) and netdata-plugins-bash (its
# cgroup-name.sh, which names a container's cgroup; without it no container gets charts), for
# bench/netdata.ts, which runs its own instance in the foreground (its own config, dirs and port).
exec bash "$(dirname "$0")/ensure-debian-server.sh" netdata "netdata /usr/lib/netdata/plugins.d/cgroup-name.sh" \
  netdata-core netdata-plugins-bash
