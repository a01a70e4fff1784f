#!/bin/bash
# bench.sh - builds bench.c at -O2 against the SRTP sources and runs it (argument: packets per suite).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$here" "$here/bench.c" \
	"$here"/{ossl,kdf,auth,cipher,replay,ctx,rtp,rtcp}.c -ldl -lpthread -o "$tmp/bench"
"$tmp/bench" "${1:-200000}"
