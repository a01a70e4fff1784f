#!/usr/bin/env bash
# Quick start: installs npm deps if needed, builds dist/rtpengine, runs it on the embedded default configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/bun ] || npm ci --no-audit --no-fund
npm run build
# The default configuration for a first run: ng on 127.0.0.1:2223, media on 127.0.0.1 ports 30000-40000,
# userspace forwarding, logging to the terminal. Extra arguments are passed on (and override these).
exec ./dist/rtpengine --config-file=none --interface=127.0.0.1 --listen-ng=127.0.0.1:2223 \
  --port-min=30000 --port-max=40000 --table=-1 --foreground --log-stderr "$@"
