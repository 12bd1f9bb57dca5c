#!/usr/bin/env bash
# Debian's prometheus, for test/integration/sink-prometheus.test.ts.
exec bash "$(dirname "$0")/ensure-debian-server.sh" prometheus prometheus prometheus
