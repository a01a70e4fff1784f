#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine (root): apt packages and npm deps.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # builds: the C shim (zig comes from npm; cc is the fallback), SRTP (libcrypto), the kernel module
  build-essential pkg-config libssl-dev libsrtp2-dev
  # network namespaces for the conformance runner and media tests
  iproute2 python3 openssl
  # the Perl rtpengine-ctl, to check ours against it
  rtpengine-utils
  # reference daemon for differential tests and benchmarks (never started as a service)
  rtpengine-daemon
  # end-to-end signalling: a real SIP proxy and SIP endpoints
  kamailio kamailio-extra-modules sip-tester
  # persistence tests
  redis-server
  # WebRTC end to end: a real browser
  chromium
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # services shipped by these packages must not start: the tests start their own instances
  policy_rc=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy_rc" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy_rc"; chmod +x "$policy_rc"; created_policy=1; fi
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f "$policy_rc"
fi
# a package's service may still have been started by its maintainer script: stop it
pkill -x rtpengine 2>/dev/null || true
pkill -x kamailio 2>/dev/null || true
pkill -x redis-server 2>/dev/null || true

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Deno 2 for the compatibility tests, outside package.json: this registry serves only the linux-x64 build of
# its per-platform packages, so a lock file naming deno cannot pass `npm ci`.
if [ ! -x .cache/deno/node_modules/.bin/deno ]; then
  mkdir -p .cache/deno
  npm install --prefix .cache/deno --no-audit --no-fund --no-save deno@2.9.6 >/dev/null
fi
