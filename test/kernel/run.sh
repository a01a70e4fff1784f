#!/usr/bin/env bash
# test/kernel/run.sh [--install-deps]
#
# Builds xt_RTPENGINE (plain make, warnings as errors), libxt_RTPENGINE.so,
# the Debian packages (packaging/build-debs.sh), rebuilds the module with
# DKMS from the built .deb in private trees, and boots Debian's matching
# kernel in qemu (TCG) with a small initramfs whose /init runs the checks in
# test/kernel/guest against the DKMS-built module and the packaged plugin.
# Exits 0 only if every check passed; prints "N passed, M failed".
#
# Env: WORK=<dir>             build dir (default: a new /tmp/rtpe-ktest.XXXXXX per run,
#                              so concurrent runs never share one)
#      KCACHE=/var/tmp/rtpe-kernel-cache  linux-image .deb + unpacked kernel, shared
#                              between runs (filled under flock)
#      KVER=6.1.0-NN-amd64     default: newest installed linux-headers-*-amd64
#      TIMEOUT=420             seconds for the VM
#      KO_FROM=dkms|make       which build of the module the VM tests (dkms)
#      DEB_INSTALL=1           also dpkg -i / --purge the .debs on this machine (deb-install.sh)
#      SMP=2                   vCPUs (2: packet path and control writes really race)
#      GUEST_INIT=<file>       another /init (test/bench/kernel-bench.sh uses this)
#      MIN_CHECKS=300          fewer CHECK PASS lines than this is a failure
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/test/kernel
WORK=${WORK:-$(mktemp -d /tmp/rtpe-ktest.XXXXXX)}
KCACHE=${KCACHE:-/var/tmp/rtpe-kernel-cache}
TIMEOUT=${TIMEOUT:-420}
KO_FROM=${KO_FROM:-dkms}
T0=$(date +%s.%N)
ts() { printf '[kernel-test %6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }

if [ "${1:-}" = "--install-deps" ]; then
	ts "apt-get install"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Lock::Timeout=900 update -qq
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
		build-essential pkg-config bc cpio kmod busybox-static qemu-system-x86 \
		iptables libxtables-dev linux-headers-amd64 dkms openssl libssl-dev nftables >/dev/null
fi

if [ -z "${KVER:-}" ]; then
	KVER=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -1)
fi
[ -n "$KVER" ] && [ -d "/usr/src/linux-headers-$KVER" ] || {
	echo "no linux-headers-*-amd64 (run with --install-deps)" >&2; exit 1; }
KSRC=/usr/src/linux-headers-$KVER
ts "KVER=$KVER"

rm -rf "$WORK/src" "$WORK/initramfs" "$WORK/debs"
mkdir -p "$KCACHE" "$WORK/src"
ts "WORK=$WORK"

# --- 1. plain build: the build contract, warnings as errors -------------------
cp -r "$ROOT/kernel-module" "$WORK/src/kernel-module"
cp -r "$ROOT/iptables-extension" "$WORK/src/iptables-extension"
rm -f "$WORK/src/kernel-module"/*.ko "$WORK/src/iptables-extension"/*.so
make -s -C "$WORK/src/kernel-module" KSRC="$KSRC" 2>&1 | grep -v 'Skipping BTF' || true
[ -f "$WORK/src/kernel-module/xt_RTPENGINE.ko" ] || { echo "module build failed" >&2; exit 1; }
make -s -C "$WORK/src/iptables-extension"
ts "make: xt_RTPENGINE.ko ($(modinfo -F vermagic "$WORK/src/kernel-module/xt_RTPENGINE.ko")), libxt_RTPENGINE.so"

# --- 2. packages, and the module rebuilt by DKMS from the .deb -----------------
OUT=$WORK/debs "$ROOT/packaging/build-debs.sh" >"$WORK/build-debs.log" 2>&1 || {
	cat "$WORK/build-debs.log"; echo "build-debs.sh failed" >&2; exit 1; }
ts "debs: $(cd "$WORK/debs" && ls *.deb | tr '\n' ' ')"
WORK=$WORK KVER=$KVER "$HERE/dkms-from-deb.sh" >"$WORK/dkms.log" 2>&1 || {
	cat "$WORK/dkms.log"; echo "dkms build from .deb failed" >&2; exit 1; }
DKMS_KO=$(cat "$WORK/dkms/ko-path")
ts "dkms: $DKMS_KO"
if [ "${DEB_INSTALL:-0}" = 1 ]; then
	"$HERE/deb-install.sh" "$WORK/debs" >"$WORK/deb-install.log" 2>&1 || {
		cat "$WORK/deb-install.log"; echo "deb-install.sh failed" >&2; exit 1; }
	ts "$(tail -1 "$WORK/deb-install.log")"
fi
if [ "$KO_FROM" = dkms ]; then KO=$DKMS_KO; else KO=$WORK/src/kernel-module/xt_RTPENGINE.ko; fi
VM=$(modinfo -F vermagic "$KO")
case "$VM" in "$KVER "*) ;; *) echo "vermagic mismatch: $VM" >&2; exit 1;; esac
# the plugin the VM uses comes out of the iptables .deb
mkdir -p "$WORK/debs/x"
dpkg-deb -x "$WORK"/debs/rtpengine-iptables_*_amd64.deb "$WORK/debs/x"
XTDIR=$(pkg-config --variable=xtlibdir xtables)
PLUGIN=$WORK/debs/x$XTDIR/libxt_RTPENGINE.so
[ -f "$PLUGIN" ] || { echo "plugin not in $XTDIR inside the .deb" >&2; exit 1; }

# --- 3. guest test program (static) ------------------------------------------------
# (static libcrypto makes ld warn about dlopen/getaddrinfo; shown only on failure)
gcc -O2 -Wall -Wextra -Werror -static -I"$ROOT/kernel-module" -o "$WORK/src/rtpe-test" \
	"$HERE"/guest/*.c -lcrypto >"$WORK/rtpe-test-build.log" 2>&1 || {
	cat "$WORK/rtpe-test-build.log"; echo "rtpe-test build failed" >&2; exit 1; }
ts "rtpe-test built"

# --- 4. kernel image: unpack the .deb (cached), never install it ---------------------
KIMG=$KCACHE/kimg-$KVER
(
	flock 9
	if [ ! -f "$KIMG/.done" ]; then
		ts "fetching linux-image-$KVER"
		cd "$KCACHE"
		ls linux-image-"$KVER"_*.deb >/dev/null 2>&1 ||
			apt-get -q -o APT::Sandbox::User=root download "linux-image-$KVER" >/dev/null
		rm -rf "$KIMG.tmp"; mkdir -p "$KIMG.tmp"
		dpkg-deb --fsys-tarfile "$(ls "$KCACHE"/linux-image-"$KVER"_*.deb | head -1)" |
			tar -x -C "$KIMG.tmp" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/net' \
				'./lib/modules/*/kernel/crypto' './lib/modules/*/kernel/arch' \
				'./lib/modules/*/kernel/lib' './lib/modules/*/modules.*'
		depmod -b "$KIMG.tmp" "$KVER"
		touch "$KIMG.tmp/.done"
		rm -rf "$KIMG"; mv "$KIMG.tmp" "$KIMG"
	fi
) 9>"$KCACHE/.lock"
[ -f "$KIMG/.done" ] || { echo "kernel image unpack failed" >&2; exit 1; }
ts "kernel image ready"

# --- 5. initramfs -----------------------------------------------------------------------
R=$WORK/initramfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,lib64} "$R$XTDIR"
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
for a in modprobe insmod rmmod lsmod depmod poweroff; do ln -sf ../bin/busybox "$R/sbin/$a"; done
cp -a /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi "$R/usr/sbin/"
for p in iptables ip6tables; do
	for s in "" -save -restore; do
		ln -s xtables-legacy-multi "$R/usr/sbin/$p-legacy$s"
		ln -s xtables-nft-multi "$R/usr/sbin/$p-nft$s"
	done
done
cp -a "$XTDIR"/. "$R$XTDIR/"
rm -f "$R$XTDIR/libxt_RTPENGINE.so"
cp "$PLUGIN" "$R$XTDIR/"
cp /etc/protocols /etc/services "$R/etc/" 2>/dev/null || true
cp "$WORK/src/rtpe-test" "$R/usr/bin/"
{
	ldd "$R/usr/sbin/xtables-legacy-multi" "$R/usr/sbin/xtables-nft-multi" "$R$XTDIR"/*.so 2>/dev/null |
		awk '/=> \//{print $3} /^\t\/lib64\//{print $1}'
} | sort -u | while read -r lib; do mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; done
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"

# in-tree modules: netfilter for both iptables backends, crypto for SRTP
CRYPTO_MODS="ctr gcm ghash-generic aesni-intel sha1-ssse3 cryptd"
MODS="iptable_filter ip6table_filter nft_compat xt_tcpudp $CRYPTO_MODS"
for m in $MODS; do
	modprobe -d "$KIMG" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r f; do
	rel=${f#"$KIMG"}; mkdir -p "$R$(dirname "$rel")"; cp "$f" "$R$rel"
done
echo "$CRYPTO_MODS" > "$R/etc/extra-modules"
MD=$R/lib/modules/$KVER
cp "$KIMG/lib/modules/$KVER"/modules.builtin* "$KIMG/lib/modules/$KVER"/modules.order "$MD/"
mkdir -p "$MD/updates"
cp "$KO" "$MD/updates/xt_RTPENGINE.ko"
depmod -b "$R" "$KVER"
install -m 0755 "${GUEST_INIT:-$HERE/guest/init}" "$R/init"
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$WORK/initramfs.cpio"
ts "initramfs: $(du -h "$WORK/initramfs.cpio" | cut -f1)"

# --- 6. boot: slub_debug=FZP red-zones, poisons and checks every slab object, so an
# out-of-bounds write or use after free shows up as "BUG" in dmesg (a failure) ------------------------------------------------------------------------------
LOG=$WORK/serial.log
rm -f "$LOG"
set +e
timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
	-M pc -accel tcg -cpu max -m 512 -smp "${SMP:-2}" \
	-display none -vga none -monitor none -nic none -no-reboot \
	-serial "file:$LOG" \
	-kernel "$KIMG/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 slub_debug=FZP quiet loglevel=4"
qrc=$?
set -e
ts "VM exited rc=$qrc"

grep -a -E '^(CHECK|RTPETEST|BENCH)|^ +packet|^  (want|got)|Kernel panic|BUG:|WARNING:' "$LOG" || true
passed=$(grep -a -c '^CHECK PASS' "$LOG" || true)
failed=$(grep -a -c '^CHECK FAIL' "$LOG" || true)
if ! grep -a -q '^RTPETEST DONE' "$LOG"; then
	echo "VM did not finish (rc=$qrc; panic, oops or timeout): last lines:"
	tail -n 40 "$LOG"
	failed=$((failed + 1))
fi
[ "$qrc" -eq 0 ] || failed=$((failed + 1))
[ "$passed" -ge "${MIN_CHECKS:-300}" ] || { echo "too few checks ran ($passed)"; failed=$((failed + 1)); }
rm -rf "$R" "$WORK/initramfs.cpio"
ts "log: $LOG"
# --- 7. the daemon (--table=0) against the same module: test/kernel/daemon-e2e.sh, ~90 s; DAEMON_E2E=0 skips it
if [ "${DAEMON_E2E:-1}" = 1 ] && [ -z "${GUEST_INIT:-}" ]; then
	if WORK=$WORK/daemon-e2e KCACHE=$KCACHE KVER=$KVER KO=$KO "$HERE/daemon-e2e.sh" >"$WORK/daemon-e2e.log" 2>&1; then
		ts "daemon-e2e: $(tail -n 1 "$WORK/daemon-e2e.log") (log: $WORK/daemon-e2e.log)"
	else
		grep -a -E '^CHECK FAIL|did not finish|failed' "$WORK/daemon-e2e.log" | tail -n 40 || tail -n 40 "$WORK/daemon-e2e.log"
		echo "daemon-e2e failed (log: $WORK/daemon-e2e.log)"
		failed=$((failed + 1))
	fi
fi
# --- 8. ffi/nft.c (--nftables-chain) against this host's nf_tables in a private netns, ~1 s: test/kernel/nft-netns.sh
if [ -z "${GUEST_INIT:-}" ]; then
	if "$HERE/nft-netns.sh" >"$WORK/nft-netns.log" 2>&1; then
		ts "nft-netns: $(tail -n 1 "$WORK/nft-netns.log")"
	else
		tail -n 25 "$WORK/nft-netns.log"; echo "nft-netns failed (log: $WORK/nft-netns.log)"
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
