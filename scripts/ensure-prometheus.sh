#!/usr/bin/env bash
# Debian's prometheus and promtool, for test/integration/sink-prometheus.test.ts and prometheus-alerts.test.ts.
exec bash "$(dirname "$0")/ensure-debian-server.sh" prometheus "prometheus promtool" prometheus
