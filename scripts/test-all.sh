#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, builds, runs every suite, sums up.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# every tool the tests need is installed by the setup stage: a test that would skip for a missing one fails instead (test/helpers/requires.ts)
export RTPENGINE_TS_REQUIRE_ALL=1
LOG_DIR=${LOG_DIR:-test-results}
mkdir -p "$LOG_DIR"

total_pass=0 total_fail=0 stage_fail=0
started=$(date +%s)

stage() { echo; echo "=== $1 ($(( $(date +%s) - started ))s)"; }
# add "N passed, M failed" (or bun's "N pass / M fail") from a log to the totals
count() {
  local log=$1 p f
  p=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
  f=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
  if [ -z "$p" ]; then
    p=$(grep -Eo '^(TOTAL:? )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
    f=$(grep -Eo '^(TOTAL:? )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
  fi
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
}
run() { # name, command...: runs a stage, logs it, counts its tests, remembers failure
  local name=$1; shift
  stage "$name"
  "$@" 2>&1 | tee "$LOG_DIR/$name.log"
  local rc=${PIPESTATUS[0]}
  count "$LOG_DIR/$name.log"
  if [ "$rc" -ne 0 ]; then echo "!!! stage $name failed (exit $rc)"; stage_fail=$((stage_fail + 1)); failed_stages+=("$name"); fi
}
failed_stages=()

run setup bash scripts/setup-test-deps.sh
run build bun scripts/build.ts
run typecheck tsc -p tsconfig.json
run unit bun test test/unit
run integration bun test test/integration
if [ -f test/conformance/run.ts ]; then run conformance bun test/conformance/run.ts --daemon dist/rtpengine; fi
if [ -f test/e2e/kamailio-sipp/run.sh ]; then run e2e-kamailio bash test/e2e/kamailio-sipp/run.sh --daemon dist/rtpengine; fi
if [ -f test/e2e/webrtc/run.sh ]; then run e2e-webrtc bash test/e2e/webrtc/run.sh --daemon dist/rtpengine; fi
if [ -f test/kernel/run.sh ]; then run kernel bash test/kernel/run.sh --install-deps; fi

echo
echo "=== done in $(( $(date +%s) - started ))s; failed stages: $stage_fail"
# CI keeps only the tail of the output: name what failed here, not thousands of lines up
for name in "${failed_stages[@]}"; do
  echo "--- failures in $name (full log: $LOG_DIR/$name.log):"
  grep -E '^\(fail\)|CHECK FAIL|^ *FAIL|E2E FAIL|^not ok|^error:|!!! ' "$LOG_DIR/$name.log" | head -20
done
echo "$total_pass passed, $total_fail failed"
[ "$stage_fail" -eq 0 ] && [ "$total_fail" -eq 0 ]
