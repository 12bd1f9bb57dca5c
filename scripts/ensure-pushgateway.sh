#!/usr/bin/env bash
# Debian's prometheus-pushgateway, for test/integration/sink-pushgateway.test.ts.
exec bash "$(dirname "$0")/ensure-debian-server.sh" prometheus-pushgateway prometheus-pushgateway prometheus-pushgateway
