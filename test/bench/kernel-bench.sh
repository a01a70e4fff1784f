#!/usr/bin/env bash
# test/bench/kernel-bench.sh [--install-deps]: forwarded packets per second and
# CPU per packet of xt_RTPENGINE inside the qemu VM (TCG, one vCPU), next to
# a minimal userspace relay (recvmmsg + sendmmsg) on the same VM. It builds
# everything through test/kernel/run.sh with another /init. A report, not a
# test: absolute numbers under TCG emulation are far below real hardware;
# compare the rows with each other.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# WORK and KCACHE as in test/kernel/run.sh (the kernel image cache is shared)
GUEST_INIT=$ROOT/test/bench/kernel-bench-init MIN_CHECKS=2 KO_FROM=make SMP=${SMP:-1} \
	"$ROOT/test/kernel/run.sh" "$@" | grep -E '^BENCH|passed|failed|VM exited'
