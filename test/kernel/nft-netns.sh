#!/usr/bin/env bash
# test/kernel/nft-netns.sh - ffi/nft.c against the host kernel's nf_tables in a private network namespace
# (unshare -n, root), no VM: the module is not loaded here, so the rule names the xt target MARK (rev 2,
# also 8 bytes of info) instead of RTPENGINE; the real target is checked in the VM (nft-e2e.sh).
# Checks: created objects, restart over left-overs, insert vs append, teardown keeps what others use,
# a failing batch (unknown target) leaves nothing behind. Exits 0 only if every check passed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/rtpe-nftns.XXXXXX)
trap 'rm -rf "$W"' EXIT
command -v nft >/dev/null || { echo "no nft (apt-get install nftables)" >&2; exit 1; }
cat >"$W/t.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rtpe_nft.h"
int main(int argc, char **argv)
{
	char err[256];
	const char *ch = argv[2], *base = argv[3];
	unsigned flags = (unsigned)strtoul(argv[4], NULL, 0);
	int r;
	if (argc != 5)
		return 2;
	if (!strcmp(argv[1], "up"))
		r = rtpe_nft_setup(ch, strlen(ch), base, strlen(base), 0, flags, err, sizeof(err));
	else
		r = rtpe_nft_teardown(ch, strlen(ch), base, strlen(base), flags, err, sizeof(err));
	printf("%d %s\n", r, err);
	return 0;
}
EOF
for t in MARK:2 NOSUCHTARGET:0; do
	gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$ROOT/ffi" "-DRTPE_NFT_TARGET=\"${t%:*}\"" \
		"-DRTPE_NFT_TARGET_REV=${t#*:}" -o "$W/t-${t%:*}" "$W/t.c" "$ROOT/ffi/nft.c"
done
cat >"$W/in-ns.sh" <<'EOF'
set -u
T=$1; B=$2; n=0; f=0
ck() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "CHECK PASS nft-netns: $name"; n=$((n+1)); else echo "CHECK FAIL nft-netns: $name"; f=$((f+1)); fi; }
rules() { nft list ruleset 2>/dev/null | grep -v '^#'; }
out=$($T up rtpengine INPUT 3); echo "setup: $out"
ck "setup created ip+ip6 table and base chain (bits 15)" [ "${out%% *}" = 15 ]
ck "ip: rtpengine chain: meta l4proto udp + xt target" sh -c "nft list chain ip filter rtpengine | grep -q 'meta l4proto udp'"
ck "ip6: jump from INPUT (hook input), tagged" sh -c "nft list chain ip6 filter INPUT | grep -q 'hook input' && nft list chain ip6 filter INPUT | grep -q 'jump rtpengine comment \"rtpengine-ts jump rtpengine\"'"
# restart over the left-overs (a crash): no duplicates
out=$($T up rtpengine INPUT 1); echo "restart: $out"
ck "restart: nothing new created" [ "${out%% *}" = 0 ]
ck "restart: one jump, one rule" sh -c "[ \$(nft list chain ip filter INPUT | grep -c jump) = 1 ] && [ \$(nft list chain ip filter rtpengine | grep -c l4proto) = 1 ]"
ck "teardown (created bits of the first run)" sh -c "$T down rtpengine INPUT 0x0f03 | grep -q '^0 '"
ck "teardown: ruleset empty" sh -c '[ -z "$(nft list ruleset)" ]'
# someone else's base chain with a rule: insert first / append last; teardown keeps theirs
nft add table ip filter; nft add chain ip filter INPUT '{ type filter hook input priority 0; }'; nft add rule ip filter INPUT counter comment '"theirs"'
$T up rtpengine INPUT 1 >/dev/null
ck "existing base chain: jump inserted first" sh -c "nft list chain ip filter INPUT | grep -E 'jump|counter' | head -1 | grep -q jump"
$T down rtpengine INPUT 1 >/dev/null
$T up rtpengine INPUT 5 >/dev/null
ck "--nftables-append: jump last" sh -c "nft list chain ip filter INPUT | grep -E 'jump|counter' | tail -1 | grep -q jump"
$T down rtpengine INPUT 0x0301 >/dev/null
ck "teardown keeps their table, chain and rule" sh -c "nft list chain ip filter INPUT | grep -q theirs && ! nft list ruleset | grep -q rtpengine"
nft delete table ip filter
# no base chain
$T up rtpengine "" 1 >/dev/null
ck "no base chain: only the chain" sh -c "nft list table ip filter | grep -q 'chain rtpengine' && ! nft list ruleset | grep -q 'hook input'"
$T down rtpengine "" 0x101 >/dev/null
ck "no base chain: teardown leaves nothing" sh -c '[ -z "$(nft list ruleset)" ]'
# a batch the kernel refuses: nothing is left, the error names the step
out=$($B up rtpengine INPUT 3); echo "refused: $out"
ck "unknown target: -ENOENT, error names the step" sh -c "echo '$out' | grep -q '^-2 install ip filter chain rtpengine'"
ck "unknown target: ruleset empty" sh -c '[ -z "$(nft list ruleset)" ]'
ck "invalid name refused" sh -c "$T up 'a b' INPUT 3 | grep -q '^-22 invalid chain name'"
echo "$n passed, $f failed"
[ "$f" = 0 ]
EOF
unshare -n bash "$W/in-ns.sh" "$W/t-MARK" "$W/t-NOSUCHTARGET"
