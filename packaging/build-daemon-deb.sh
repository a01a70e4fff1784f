#!/usr/bin/env bash
# Builds rtpengine_VERSION_ARCH.deb from dist/rtpengine: the one executable, rtpengine-ctl, the config and the systemd unit.
# Env: OUT=<dir> (default packaging/out), VERSION (default: package.json version). Needs dpkg-deb only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/packaging/out}
VERSION=${VERSION:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -1)}
ARCH=$(dpkg --print-architecture)
BIN=$ROOT/dist/rtpengine
[ -x "$BIN" ] || { echo "build-daemon-deb: $BIN missing (run npm run build first)" >&2; exit 1; }
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
mkdir -p "$OUT" "$B/DEBIAN" "$B/usr/bin" "$B/etc/rtpengine" "$B/etc/default" "$B/lib/systemd/system" "$B/usr/share/doc/rtpengine"
install -m 0755 "$BIN" "$B/usr/bin/rtpengine"
ln -s rtpengine "$B/usr/bin/rtpengine-ctl"
install -m 0644 "$ROOT/packaging/daemon/rtpengine.conf" "$B/etc/rtpengine/rtpengine.conf"
install -m 0644 "$ROOT/systemd/rtpengine.default" "$B/etc/default/rtpengine"
install -m 0644 "$ROOT/systemd/rtpengine.service" "$B/lib/systemd/system/rtpengine.service"
install -m 0644 "$ROOT/README.md" "$B/usr/share/doc/rtpengine/README.md"
cat > "$B/DEBIAN/control" <<CTRL
Package: rtpengine
Version: $VERSION
Architecture: $ARCH
Maintainer: rtpengine-ts maintainers <root@localhost>
Section: net
Priority: optional
Conflicts: rtpengine-daemon, ngcp-rtpengine-daemon
Replaces: rtpengine-daemon, ngcp-rtpengine-daemon
Provides: rtpengine-daemon
Recommends: rtpengine-kernel-dkms, rtpengine-iptables
Depends: libc6 (>= 2.28)
Description: media proxy compatible with rtpengine 10.5 (TypeScript/Bun edition)
 One self-contained executable: same options, config file, ng control protocol
 and kernel forwarding interface as the Sipwise rtpengine 10.5.
CTRL
printf '/etc/rtpengine/rtpengine.conf\n/etc/default/rtpengine\n' > "$B/DEBIAN/conffiles"
cat > "$B/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  systemctl enable rtpengine.service || true
  systemctl restart rtpengine.service || true
fi
POST
cat > "$B/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop rtpengine.service || true; fi
PRERM
chmod 0755 "$B/DEBIAN/postinst" "$B/DEBIAN/prerm"
deb="$OUT/rtpengine_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$B" "$deb" >/dev/null
echo "$deb"
