#!/usr/bin/env bash
# Debian's graphite-web (it brings python3-cairocffi and python3-cairo, which its PNG rendering
# needs) and a font for the PNGs' text, for test/integration/dashboards.test.ts and
# bench/dashboard-pictures.ts. The package runs under Apache's mod_wsgi and has no service of its
# own: the tests serve it with Django's development server (graphite-manage runserver).
exec bash "$(dirname "$0")/ensure-debian-server.sh" - graphite-manage graphite-web python3-cairocffi python3-cairo fonts-dejavu-core
