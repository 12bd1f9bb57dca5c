#!/usr/bin/env bash
# Debian's prometheus-pushgateway, for test/integration/sink-pushgateway.test.ts, and python3-bcrypt,
# which its helper uses to hash the web config's password (graphite-carbon happens to bring it too,
# but this test must not depend on another test having run first).
exec bash "$(dirname "$0")/ensure-debian-server.sh" prometheus-pushgateway "prometheus-pushgateway py:bcrypt" prometheus-pushgateway python3-bcrypt
