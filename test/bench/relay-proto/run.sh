#!/bin/bash
# run.sh - rtpload (media mode) against the prototype relay's engines and, for scale, our daemon and
# the reference, each in a throw-away network namespace, interleaved. Needs root. Prints one RESULT
# line per run, prefixed with the target and the 1-minute load average.
#
#   test/bench/relay-proto/run.sh [REPS] [THREADS] [TARGETS]    (defaults: 3 1 "epoll uring uring-b500 ours ref")
#   PIN=1 runs the target alone on CPU 1 and rtpload on CPU 0.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
reps=${1:-3}; th=${2:-1}; targets=${3:-"epoll uring uring-b500 ours ref"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -Wextra -Werror -pthread -o "$work/relay" "$here/relay.c"
cp /work/shared/tools/rtpload/rtpload.c /work/shared/tools/rtpload/Makefile "$work/"
make -s -C "$work"
D="--config-file=none --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:2223 --foreground --log-stderr --log-level=5 --port-min=20000 --port-max=60000 --delete-delay=0 --num-threads=$th"

one() {   # NAME ENV-ASSIGNMENT... -- CMD...
	local name=$1 ns=relayproto$$ pid out; shift
	ip netns add $ns; ip -n $ns link set lo up
	if [ -n "${PIN:-}" ]; then   # PIN=1: target alone on CPU 1, rtpload on CPU 0
		taskset -c 1 env "$@" >"$work/daemon.log" 2>&1 &
	else
		env "$@" >"$work/daemon.log" 2>&1 &
	fi
	pid=$!
	sleep 1.5
	out=$(timeout 300 ${PIN:+taskset -c 0} ip netns exec $ns "$work/rtpload" --mode media --ng 127.0.0.1:2223 --pid $pid --calls 500 \
		--duration 10 --warmup 4 --tag p 2>/dev/null | grep RESULT || true)
	kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
	ip netns del $ns
	echo "$name load=$(cut -d' ' -f1 /proc/loadavg) $out"
}

for rep in $(seq "$reps"); do
	for t in $targets; do
		ns=relayproto$$
		case $t in
		epoll) one "relay-epoll/$th" ip netns exec $ns "$work/relay" --num-threads=$th ;;
		uring) one "relay-uring/$th" ip netns exec $ns "$work/relay" --engine=uring --num-threads=$th ;;
		uring-send) one "relay-uring-send/$th" ip netns exec $ns "$work/relay" --engine=uring --send --num-threads=$th ;;
		uring-sib) one "relay-uring-sib/$th" ip netns exec $ns "$work/relay" --engine=uring --sibling --num-threads=$th ;;
		uring-conn) one "relay-uring-conn/$th" ip netns exec $ns "$work/relay" --engine=uring --connect --num-threads=$th ;;
		uring-conn-send) one "relay-uring-conn-send/$th" ip netns exec $ns "$work/relay" --engine=uring --connect --send --num-threads=$th ;;
		uring-b*) one "relay-$t/$th" ip netns exec $ns "$work/relay" --engine=uring --batch-us=${t#uring-b} --num-threads=$th ;;
		ours) one "ours/$th" RTPENGINE_TS_FASTPATH=1 ip netns exec $ns "$repo/dist/rtpengine" $D ;;
		ours-epoll) one "ours-epoll/$th" RTPE_SHIM_ENGINE=epoll RTPENGINE_TS_FASTPATH=1 ip netns exec $ns "$repo/dist/rtpengine" $D ;;
		ref) one "ref/$th" ip netns exec $ns /usr/bin/rtpengine $D ;;
		esac
	done
done
