#!/usr/bin/env bash
# test/kernel/daemon-e2e.sh - the compiled daemon with --table=0 against the real xt_RTPENGINE in a qemu VM:
# a call over ng, RTP both ways on the guest's loopback (and an SDES-SRTP <-> RTP call: daemon-srtp.c); after learning the kernel forwards (blist counters
# rise, the daemon's slow path sees nothing), delete withdraws the rules, shutdown deletes the table,
# --no-fallback refuses a busy table; then --nftables-chain with no iptables rule (nft-e2e.sh). Exits 0 only if
# every check passed; prints "N passed, M failed".
#
# Env: WORK=<dir>       build dir (default: new /tmp/rtpe-dtest.XXXXXX)
#      KCACHE=/var/tmp/rtpe-kernel-cache  unpacked Debian kernel, shared with run.sh (filled under flock)
#      KVER             default: newest installed linux-headers-*-amd64
#      BIN=<file>       the daemon to test (default: built from this tree into $WORK with scripts/build.ts)
#      KO=<file>        the module to test (default: built here with make; run.sh passes its DKMS build)
#      TIMEOUT=300      seconds for the VM;  MEM=1024  guest RAM in MB (the binary is ~110 MB, in the initramfs)
#      GUEST_APPEND=    extra kernel parameters (the guest's env), e.g. nftfam=ip6 (negative control of nft-e2e.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/test/kernel
WORK=${WORK:-$(mktemp -d /tmp/rtpe-dtest.XXXXXX)}
KCACHE=${KCACHE:-/var/tmp/rtpe-kernel-cache}
TIMEOUT=${TIMEOUT:-300}
T0=$(date +%s.%N)
ts() { printf '[daemon-e2e %6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
export PATH=$ROOT/node_modules/.bin:$PATH

if [ -z "${KVER:-}" ]; then
	KVER=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -1)
fi
[ -n "$KVER" ] && [ -d "/usr/src/linux-headers-$KVER" ] || { echo "no linux-headers-*-amd64 (test/kernel/run.sh --install-deps)" >&2; exit 1; }
mkdir -p "$WORK/src" "$KCACHE"
ts "KVER=$KVER WORK=$WORK"

# --- module, plugin, guest client, daemon -------------------------------------------------
rm -rf "$WORK/src/kernel-module" "$WORK/src/iptables-extension"
cp -r "$ROOT/kernel-module" "$ROOT/iptables-extension" "$WORK/src/"
rm -f "$WORK/src/kernel-module"/*.ko "$WORK/src/iptables-extension"/*.so
if [ -z "${KO:-}" ]; then
	make -s -C "$WORK/src/kernel-module" KSRC="/usr/src/linux-headers-$KVER" 2>&1 | grep -v 'Skipping BTF' || true
	KO=$WORK/src/kernel-module/xt_RTPENGINE.ko
fi
[ -f "$KO" ] || { echo "module build failed" >&2; exit 1; }
make -s -C "$WORK/src/iptables-extension"
gcc -O2 -Wall -Wextra -Werror -static -I"$ROOT/kernel-module" -o "$WORK/src/daemon-client" "$HERE/daemon-client.c"
# SDES-SRTP <-> RTP through the kernel, checked against the OpenSSL reference SRTP of guest/srtp-ref.c
gcc -O2 -Wall -Wextra -Werror -static -I"$ROOT/kernel-module" -I"$HERE" -o "$WORK/src/daemon-srtp" "$HERE/daemon-srtp.c" \
	"$HERE/guest/srtp-ref.c" -lcrypto >"$WORK/daemon-srtp-build.log" 2>&1 || { cat "$WORK/daemon-srtp-build.log"; echo "daemon-srtp build failed" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
	BIN=$WORK/src/rtpengine
	(cd "$ROOT" && bun scripts/build.ts --outfile "$BIN") >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; echo "daemon build failed" >&2; exit 1; }
fi
ts "built: xt_RTPENGINE.ko, libxt_RTPENGINE.so, daemon-client, $(du -h "$BIN" | cut -f1) $BIN"

# --- kernel image (same cache and layout as run.sh) --------------------------------------------
KIMG=$KCACHE/kimg-$KVER
(
	flock 9
	if [ ! -f "$KIMG/.done" ]; then
		cd "$KCACHE"
		ls linux-image-"$KVER"_*.deb >/dev/null 2>&1 || apt-get -q -o APT::Sandbox::User=root download "linux-image-$KVER" >/dev/null
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

# --- initramfs: busybox, iptables-legacy + plugin, the module, the daemon and its glibc --------------
R=$WORK/initramfs
rm -rf "$R"
XTDIR=$(pkg-config --variable=xtlibdir xtables)
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,lib64} "$R$XTDIR"
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
for a in modprobe insmod rmmod lsmod depmod poweroff; do ln -sf ../bin/busybox "$R/sbin/$a"; done
cp -a /usr/sbin/xtables-legacy-multi "$R/usr/sbin/"
NFT=$(command -v nft || true)
[ -n "$NFT" ] || { echo "no nft binary (apt-get install nftables): needed by the --nftables-chain checks" >&2; exit 1; }
cp "$NFT" "$R/usr/sbin/nft"
install -m 0755 "$HERE/nft-e2e.sh" "$R/nft-e2e"
ln -s xtables-legacy-multi "$R/usr/sbin/iptables-legacy"
cp -a "$XTDIR"/. "$R$XTDIR/"
cp "$WORK/src/iptables-extension/libxt_RTPENGINE.so" "$R$XTDIR/"
cp /etc/protocols /etc/services "$R/etc/" 2>/dev/null || true
cp "$WORK/src/daemon-client" "$WORK/src/daemon-srtp" "$R/usr/bin/"
cp "$BIN" "$R/usr/bin/rtpengine"
ldd "$R/usr/sbin/xtables-legacy-multi" "$R/usr/sbin/nft" "$R$XTDIR"/*.so "$BIN" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' |
	sort -u | while read -r lib; do mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; done
# the daemon dlopens OpenSSL for SRTP/DTLS (ffi/srtp/ossl.c): not in its ldd output
for lib in libcrypto.so.3 libssl.so.3; do
	# awk reads to the end: an early exit would SIGPIPE ldconfig, and pipefail + set -e would end the script silently
	f=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !f {print $NF; f = 1}')
	[ -n "$f" ] || { echo "no $lib on this machine (libssl3)" >&2; exit 1; }
	mkdir -p "$R$(dirname "$f")"; cp -L "$f" "$R$f"
done
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
# netfilter for iptables-legacy, crypto for the module's SRTP self-test at load (as run.sh)
CRYPTO_MODS="ctr gcm ghash-generic aesni-intel sha1-ssse3 cryptd"
for m in iptable_filter xt_tcpudp nft_compat $CRYPTO_MODS; do
	modprobe -d "$KIMG" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r f; do rel=${f#"$KIMG"}; mkdir -p "$R$(dirname "$rel")"; cp "$f" "$R$rel"; done
echo "$CRYPTO_MODS" >"$R/etc/extra-modules"
MD=$R/lib/modules/$KVER
mkdir -p "$MD/updates"
cp "$KIMG/lib/modules/$KVER"/modules.builtin* "$KIMG/lib/modules/$KVER"/modules.order "$MD/"
cp "$KO" "$MD/updates/xt_RTPENGINE.ko"
depmod -b "$R" "$KVER"
install -m 0755 "$HERE/daemon-init" "$R/init"
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$WORK/initramfs.cpio"
rm -rf "$R"
ts "initramfs: $(du -h "$WORK/initramfs.cpio" | cut -f1)"

# --- boot ----------------------------------------------------------------------------------------
LOG=$WORK/serial.log
rm -f "$LOG"
set +e
timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
	-M pc -accel tcg -cpu max -m "${MEM:-1024}" -smp 2 \
	-display none -vga none -monitor none -nic none -no-reboot \
	-serial "file:$LOG" \
	-kernel "$KIMG/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet loglevel=4 ${GUEST_APPEND:-}"
qrc=$?
set -e
rm -f "$WORK/initramfs.cpio"
ts "VM exited rc=$qrc"

grep -a -E '^(CHECK|DAEMONTEST)|Kernel panic|BUG:|WARNING:' "$LOG" || true
passed=$(grep -a -c '^CHECK PASS' "$LOG" || true)
failed=$(grep -a -c '^CHECK FAIL' "$LOG" || true)
if ! grep -a -q '^DAEMONTEST DONE' "$LOG"; then
	echo "VM did not finish (rc=$qrc; panic, oops or timeout): last lines:"
	tail -n 40 "$LOG"
	failed=$((failed + 1))
fi
[ "$qrc" -eq 0 ] || failed=$((failed + 1))
[ "$passed" -ge "${MIN_CHECKS:-90}" ] || { echo "too few checks ran ($passed)"; failed=$((failed + 1)); }
ts "log: $LOG"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
