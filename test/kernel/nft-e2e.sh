#!/bin/sh
# test/kernel/nft-e2e.sh - guest part of daemon-e2e.sh, run by daemon-init as /nft-e2e: the daemon with
# --nftables-chain installs its own nftables rule (no iptables rule at all), the module forwards a call's
# RTP, shutdown removes what it installed. "CHECK PASS|FAIL daemon-nft: ..." lines on the console.
# Kernel command line (env of /init): nftfam=ip6 runs the daemon for IPv6 only, a negative control
# (the IPv4 call must then stay in userspace and the forwarding checks fail).
pass() { echo "CHECK PASS daemon-nft: $*"; }
fail() { echo "CHECK FAIL daemon-nft: $*"; }
ck() { name=$1; shift; if "$@" >/tmp/ck.out 2>&1; then pass "$name"; else fail "$name: $(head -c 300 /tmp/ck.out)"; fi; }
ckn() { name=$1; shift; if "$@" >/tmp/ck.out 2>&1; then fail "$name: unexpectedly succeeded"; else pass "$name"; fi; }

modprobe nft_compat || fail "modprobe nft_compat"
# no iptables rule of any kind may send packets to the module
iptables-legacy -D INPUT -p udp -j RTPENGINE --id 0 2>/dev/null
ckn "no iptables RTPENGINE rule" sh -c 'iptables-legacy -S | grep RTPENGINE'
ck "nftables ruleset empty before" sh -c '[ -z "$(nft list ruleset)" ]'

t0=$(cut -d' ' -f1 /proc/uptime)
rtpengine --config-file=none --foreground --log-stderr --table=0 -i 127.0.0.1 -n 127.0.0.1:2225 \
	--nftables-chain=rtpengine --nftables-base-chain=INPUT --nftables-family="${nftfam:-ip,ip6}" \
	--endpoint-learning=immediate --port-min=30100 --port-max=30199 --delete-delay=0 >/tmp/nft-daemon.log 2>&1 &
pid=$!
i=0; while ! nft list ruleset 2>/dev/null | grep -q RTPENGINE && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
echo "DAEMONTEST nft: rule after $(echo "$(cut -d' ' -f1 /proc/uptime) $t0" | awk '{print $1 - $2}') s"
nft list ruleset >/tmp/nft.rules 2>&1
sed 's/^/DAEMONTEST nft ruleset: /' /tmp/nft.rules
ck "nft: chain rtpengine sends UDP to xt target RTPENGINE (ip)" \
	sh -c "nft list chain ip filter rtpengine | grep -E 'meta l4proto udp .*xt target \"?RTPENGINE'"
ck "nft: INPUT (hook input) jumps to rtpengine (ip)" \
	sh -c "nft list chain ip filter INPUT | grep -q 'hook input' && nft list chain ip filter INPUT | grep -q 'jump rtpengine'"
ck "nft: the same for ip6" sh -c "nft list chain ip6 filter rtpengine | grep -q RTPENGINE && nft list chain ip6 filter INPUT | grep -q 'jump rtpengine'"
ck "log: nftables chain installed" grep -q "Installed nftables chain rtpengine" /tmp/nft-daemon.log

daemon-client 2225 0 | sed -E 's/^CHECK (PASS|FAIL) daemon: /CHECK \1 daemon-nft: /'
# the rule's own counters are not there (no counter expression): the module's blist counters are the proof

kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
ckn "daemon exited on SIGTERM" kill -0 $pid
wait $pid; rc=$?
ck "daemon exit code 0" [ "$rc" -eq 0 ]
ck "shutdown removed everything it created (ruleset empty)" sh -c '[ -z "$(nft list ruleset)" ]'
ck "shutdown deleted table 0" sh -c '[ -z "$(cat /proc/rtpengine/list)" ]'
ck "log: nftables chain removed" grep -q "Removed nftables chain rtpengine" /tmp/nft-daemon.log

# an existing base chain with a rule of someone else's: the jump goes first, the chain and the rule stay
nft add table ip filter && nft add chain ip filter INPUT '{ type filter hook input priority 0; policy accept; }' &&
	nft add rule ip filter INPUT counter comment '"theirs"'
rtpengine --config-file=none --foreground --log-stderr --table=0 -i 127.0.0.1 -n 127.0.0.1:2226 \
	--nftables-chain=rtpengine --nftables-base-chain=INPUT --nftables-family=ip >/tmp/nft-daemon2.log 2>&1 &
pid=$!
i=0; while ! nft list ruleset 2>/dev/null | grep -q RTPENGINE && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
ck "existing INPUT: our jump inserted first" sh -c "nft list chain ip filter INPUT | grep -E 'jump|counter' | head -1 | grep -q 'jump rtpengine'"
kill -TERM $pid; wait $pid
ck "existing INPUT: their rule and chain kept, ours gone" \
	sh -c "nft list ruleset | grep -q theirs && ! nft list ruleset | grep -q rtpengine"
nft delete table ip filter

sed 's/^/DAEMONTEST nft log: /' /tmp/nft-daemon.log | grep -v -i ' debug' | tail -n 15
