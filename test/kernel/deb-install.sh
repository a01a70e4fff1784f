#!/usr/bin/env bash
# test/kernel/deb-install.sh DEBDIR: installs the two built .debs on THIS machine
# with dpkg (the dkms postinst builds and installs xt_RTPENGINE for the installed
# linux-headers), checks the results, then purges and checks nothing is left.
# Changes /lib/modules/<kver>/updates and the xtables plugin dir while it runs:
# meant for throwaway CI machines (run.sh calls it when DEB_INSTALL=1).
set -euo pipefail
DIR=${1:?usage: deb-install.sh DEBDIR}
KVER=${KVER:-$(ls -d /usr/src/linux-headers-*-amd64 | sed 's|.*/linux-headers-||' | sort -V | tail -1)}
XTDIR=$(pkg-config --variable=xtlibdir xtables)
fail() { echo "deb-install: FAIL: $*"; exit 1; }
APT=(apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Lock::Timeout=900 -y -q --no-install-recommends)
DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "$(realpath "$DIR"/rtpengine-kernel-dkms_*_all.deb)" \
	"$(realpath "$DIR"/rtpengine-iptables_*_amd64.deb)"
dkms status rtpengine | grep -q "$KVER.*installed" || fail "dkms status"
ls /lib/modules/"$KVER"/updates/dkms/xt_RTPENGINE.ko* >/dev/null || fail "module not installed"
modinfo -k "$KVER" xt_RTPENGINE | grep -q "^vermagic: *$KVER " || fail "modinfo/depmod"
[ -f "$XTDIR/libxt_RTPENGINE.so" ] || fail "plugin not in $XTDIR"
iptables-legacy -j RTPENGINE -h >"${TMPDIR:-/tmp}/rtpe-ipt-help.$$" 2>&1 || true
grep -q -- '--id N' "${TMPDIR:-/tmp}/rtpe-ipt-help.$$" || fail "plugin help"
rm -f "${TMPDIR:-/tmp}/rtpe-ipt-help.$$"
[ -f /usr/include/rtpengine/rtpengine_uapi.h ] || fail "uapi header"
DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge rtpengine-iptables rtpengine-kernel-dkms
[ -z "$(dkms status rtpengine)" ] || fail "dkms entry left after purge"
! ls /lib/modules/"$KVER"/updates/dkms/xt_RTPENGINE.ko* >/dev/null 2>&1 || fail "module left after purge"
[ ! -e /var/lib/dkms/rtpengine ] || fail "/var/lib/dkms/rtpengine left"
[ ! -e "$XTDIR/libxt_RTPENGINE.so" ] || fail "plugin left after purge"
echo "deb-install: OK (install, dkms build for $KVER, purge)"
