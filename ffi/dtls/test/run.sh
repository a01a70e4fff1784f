#!/bin/bash
# run.sh - ABI check of ossl.h against <openssl/*.h> (and that a wrong prototype is caught), then
# the fuzz harness under ASan/UBSan. Needs gcc and libssl-dev. Prints "N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }
warn=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror)

if gcc "${warn[@]}" -fsyntax-only -I"$src" "$here/abi_check.c" 2>"$tmp/abi.log"; then ok abi_check; else ko abi_check; cat "$tmp/abi.log"; fi
# the check must be able to fail: a profile struct of the wrong type is rejected
if gcc "${warn[@]}" -fsyntax-only -DRTPE_SRTP_PROFILE=int -I"$src" "$here/abi_check.c" 2>/dev/null; then
	ko abi_check_detects_mismatch
else
	ok abi_check_detects_mismatch
fi

srcs=(ossl.c err.c demux.c cert.c bio.c outq.c verify.c keys.c conn.c)
if gcc "${warn[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	-I"$src" "$here/fuzz.c" "${srcs[@]/#/$src/}" -ldl -lpthread -o "$tmp/fuzz" 2>"$tmp/fuzz.build"; then
	out="$(ASAN_OPTIONS=detect_leaks=1 "$tmp/fuzz" 2>&1)"; rc=$?
	printf '%s\n' "$out" | tail -5
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^fuzz: [0-9]* passed, 0 failed$'; then ok fuzz; else ko fuzz; fi
else
	ko "fuzz (build)"; cat "$tmp/fuzz.build"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
