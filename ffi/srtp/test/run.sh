#!/bin/bash
# run.sh - builds and runs every SRTP C test under ASan/UBSan; prints "N passed, M failed", exit 0/1.
# Needs gcc, libssl-dev (headers for abi_check only) and libsrtp2-dev (interop).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
cflags=(-std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer
	-fsanitize=address,undefined -fno-sanitize-recover=all -I"$src")
lib=(ossl.c kdf.c auth.c cipher.c replay.c ctx.c rtp.c rtcp.c)
libsrc=("${lib[@]/#/$src/}")

step() { # name, command...
	local name="$1"; shift
	if "$@" >"$tmp/$name.log" 2>&1; then
		passed=$((passed + 1)); echo "ok   $name"
	else
		failed=$((failed + 1)); echo "FAIL $name"; tail -20 "$tmp/$name.log"
	fi
}

run_prog() { # name, extra link flags...   (EVP_ONLY=1: without the direct SHA-1 path)
	local name="$1"; shift
	if ! gcc "${cflags[@]}" "$here/$name.c" "${libsrc[@]}" "$@" -ldl -lpthread -o "$tmp/$name" >"$tmp/$name.build" 2>&1; then
		failed=$((failed + 1)); echo "FAIL $name (build)"; cat "$tmp/$name.build"; return
	fi
	local out rc
	out="$(ASAN_OPTIONS=detect_leaks=1 RTPE_SRTP_EVP_ONLY="${EVP_ONLY:-0}" "$tmp/$name" 2>&1)"; rc=$?
	local line p f
	line="$(printf '%s\n' "$out" | grep -E '^[a-z ]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)"
	p="$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")"
	f="$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")"
	[ -z "$line" ] && p=0 f=1
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1   # crashed or sanitizer report after the summary
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then printf '%s\n' "$out" | tail -30; fi
	echo "${line:-$name: crashed (rc $rc)}"
}

step build-zig bash "$src/build.sh"
step build-gcc env CC=gcc OUT="$tmp/gcc" bash "$src/build.sh"
step abi-check gcc -std=gnu11 -Wall -Wextra -Werror -I"$src" "$here/abi_check.c" -o "$tmp/abi_check"
run_prog vectors
run_prog behave
run_prog interop -lsrtp2
run_prog fuzz
EVP_ONLY=1 run_prog vectors
EVP_ONLY=1 run_prog interop -lsrtp2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
