#!/usr/bin/env bash
# Debian's graphite-carbon and python3-whisper, for test/integration/sink-carbon.test.ts.
exec bash "$(dirname "$0")/ensure-debian-server.sh" carbon-cache "carbon-cache py:whisper" graphite-carbon python3-whisper
