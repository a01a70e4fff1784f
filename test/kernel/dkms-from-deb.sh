#!/usr/bin/env bash
# test/kernel/dkms-from-deb.sh: unpack the built rtpengine-kernel-dkms .deb and
# build the module with dkms in private trees (no /lib/modules, no /var/lib/dkms
# tree touched). Writes the .ko path to $WORK/dkms/ko-path.
# Env: WORK (default /tmp/rtpe-ktest), KVER, DEB (default $WORK/debs/rtpengine-kernel-dkms_*_all.deb)
set -euo pipefail
WORK=${WORK:-/tmp/rtpe-ktest}
KVER=${KVER:-$(ls -d /usr/src/linux-headers-*-amd64 | sed 's|.*/linux-headers-||' | sort -V | tail -1)}
DEB=${DEB:-$(ls "$WORK"/debs/rtpengine-kernel-dkms_*_all.deb | head -1)}
D=$WORK/dkms
rm -rf "$D"; mkdir -p "$D/root" "$D/tree" "$D/install"
dpkg-deb -x "$DEB" "$D/root"
# the maintainer scripts must be there and be shell-clean
dpkg-deb -e "$DEB" "$D/control"
for s in postinst prerm postrm; do
	[ -x "$D/control/$s" ] || { echo "missing $s" >&2; exit 1; }
	sh -n "$D/control/$s"
done
grep -q 'common.postinst rtpengine ' "$D/control/postinst"
SRC=$(ls -d "$D"/root/usr/src/rtpengine-*)
NAME=rtpengine
VER=${SRC##*/rtpengine-}
ln -s "$D/root/usr/src" "$D/src"
dk() { dkms --dkmstree "$D/tree" --sourcetree "$D/src" --installtree "$D/install" "$@"; }
dk add -m "$NAME" -v "$VER"
dk build -m "$NAME" -v "$VER" -k "$KVER"
dk status -m "$NAME"
KO=$D/tree/$NAME/$VER/$KVER/x86_64/module/xt_RTPENGINE.ko
[ -f "$KO" ] || KO=$(ls "$D"/tree/$NAME/$VER/$KVER/*/module/xt_RTPENGINE.ko* | head -1)
case "$KO" in *.xz) xz -dk "$KO"; KO=${KO%.xz};; *.zst) zstd -dq "$KO"; KO=${KO%.zst};; esac
modinfo -F vermagic "$KO"
echo "$KO" > "$D/ko-path"
