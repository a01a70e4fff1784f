#!/usr/bin/env bash
# packaging/build-debs.sh: builds, with dpkg-deb only (no debhelper needed),
#   rtpengine-kernel-dkms_VERSION_all.deb   xt_RTPENGINE source + dkms.conf under
#                                           /usr/src/rtpengine-VERSION; postinst
#                                           builds+installs for the running kernel
#                                           (dkms autoinstall on new kernels)
#   rtpengine-iptables_VERSION_amd64.deb    libxt_RTPENGINE.so in the xtables dir
# Env: OUT=<dir> (default packaging/out), VERSION (default: package.json version)
# Needs: build-essential pkg-config libxtables-dev (for the plugin), dpkg-dev tools.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/packaging/out}
VERSION=${VERSION:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -1)}
[ -n "$VERSION" ] || { echo "no VERSION" >&2; exit 1; }
DKMS_NAME=rtpengine
MAINT="rtpengine-ts maintainers <root@localhost>"
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
mkdir -p "$OUT"

# ---- rtpengine-kernel-dkms ------------------------------------------------------
P=$B/dkms
S=$P/usr/src/$DKMS_NAME-$VERSION
mkdir -p "$P/DEBIAN" "$S" "$P/usr/include/rtpengine" "$P/usr/share/doc/rtpengine-kernel-dkms"
for f in "$ROOT"/kernel-module/*.c "$ROOT"/kernel-module/*.h "$ROOT"/kernel-module/Kbuild \
	 "$ROOT"/kernel-module/Makefile; do
	install -m 0644 "$f" "$S/"
done
install -m 0644 "$ROOT/kernel-module/rtpengine_uapi.h" "$P/usr/include/rtpengine/"
install -m 0644 "$ROOT/kernel-module/README.md" "$P/usr/share/doc/rtpengine-kernel-dkms/"
sed "s/@VERSION@/$VERSION/" "$ROOT/packaging/dkms/dkms.conf.in" > "$S/dkms.conf"
cat > "$P/DEBIAN/control" <<CTL
Package: rtpengine-kernel-dkms
Version: $VERSION
Architecture: all
Maintainer: $MAINT
Depends: dkms (>= 2.1.0.0)
Recommends: linux-headers-amd64 | linux-headers-generic, rtpengine-iptables (= $VERSION)
Section: kernel
Priority: optional
Description: in-kernel RTP/SRTP forwarding for rtpengine (DKMS source)
 xt_RTPENGINE, an x_tables target (iptables -j RTPENGINE --id N) that
 forwards established media streams in the kernel. The module is built
 by DKMS for every installed kernel.
CTL
for s in postinst prerm postrm; do
	sed "s/@VERSION@/$VERSION/; s/@NAME@/$DKMS_NAME/" "$ROOT/packaging/dkms/$s.in" > "$P/DEBIAN/$s"
	chmod 0755 "$P/DEBIAN/$s"
done
dpkg-deb --root-owner-group -Zxz --build "$P" "$OUT/rtpengine-kernel-dkms_${VERSION}_all.deb"

# ---- rtpengine-iptables ------------------------------------------------------------
XTDIR=$(pkg-config --variable=xtlibdir xtables)
E=$B/ipt
mkdir -p "$E/DEBIAN" "$E$XTDIR" "$B/ext"
cp "$ROOT"/iptables-extension/{Makefile,libxt_RTPENGINE.c} "$B/ext/"
mkdir -p "$B/kernel-module"
cp "$ROOT/kernel-module/rtpengine_uapi.h" "$B/kernel-module/"
make -s -C "$B/ext" >/dev/null
install -m 0644 "$B/ext/libxt_RTPENGINE.so" "$E$XTDIR/"
strip --strip-unneeded "$E$XTDIR/libxt_RTPENGINE.so"
XTVER=$(dpkg-query -W -f='${Version}' libxtables12 2>/dev/null | sed 's/-[^-]*$//')
cat > "$E/DEBIAN/control" <<CTL
Package: rtpengine-iptables
Version: $VERSION
Architecture: amd64
Maintainer: $MAINT
Depends: libxtables12 (>= ${XTVER:-1.8.9}), libc6, iptables
Recommends: rtpengine-kernel-dkms (= $VERSION)
Section: net
Priority: optional
Description: iptables/ip6tables plugin for the RTPENGINE target
 Adds "-j RTPENGINE --id N" to iptables and ip6tables (legacy and nft),
 which sends UDP to the xt_RTPENGINE kernel forwarding table N.
CTL
dpkg-deb --root-owner-group -Zxz --build "$E" "$OUT/rtpengine-iptables_${VERSION}_amd64.deb"
ls -l "$OUT"/rtpengine-kernel-dkms_"$VERSION"_all.deb "$OUT"/rtpengine-iptables_"$VERSION"_amd64.deb
