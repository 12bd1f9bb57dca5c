#!/usr/bin/env bash
# Debian's carbon-c-relay, for test/integration/fanin-carbon-relay.test.ts (which also runs
# scripts/ensure-carbon.sh for the carbon-caches behind it). The package's own service stays disabled.
exec bash "$(dirname "$0")/ensure-debian-server.sh" carbon-c-relay carbon-c-relay carbon-c-relay
