#!/usr/bin/env bash
# WebRTC end-to-end: headless Chromium (ICE, DTLS-SRTP, rtcp-mux) bridged by the media proxy to a plain RTP/AVP endpoint.
#
#   bash test/e2e/webrtc/run.sh [--daemon CMD] [--scenario out|in|bundle|both|all[,...]] [--dtls passive|active] [--timeout S] [--hold S] [--keep-logs]
#   CMD: dist/rtpengine (default), "bun src/main.ts", or /usr/bin/rtpengine (the reference, 10.5)
# Scenarios: out = the browser calls a plain RTP/AVP phone, in = the phone calls the browser, bundle = the
# browser calls with audio + video under BUNDLE (Opus, VP8). Default all; "both" = out,in.
# Needs chromium (apt-get install -y chromium). Loopback only. Exit 0 = PASS, 1 = FAIL, 2 = usage.
# Set E2E_SHOW_SDP=1 to print the four SDPs.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
DAEMON="dist/rtpengine"
HARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon) DAEMON=$2; shift 2 ;;
    --daemon=*) DAEMON=${1#--daemon=}; shift ;;
    --dtls|--timeout|--scenario|--hold) HARGS+=("$1" "$2"); shift 2 ;;
    --keep-logs) HARGS+=("$1"); shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

BUN=$(command -v bun || echo "$REPO/node_modules/.bin/bun")
fail_setup() { echo "E2E FAIL: webrtc: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$BUN" ] || fail_setup "bun not found"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail_setup "chromium not found (apt-get install -y chromium)"
command -v setsid >/dev/null || fail_setup "setsid not found (util-linux)"

# daemon argv: a leading "bun" is this repo's bun; relative paths are relative to the repo
read -r -a DARGV <<<"$DAEMON"
if [ "${DARGV[0]}" = bun ]; then DARGV[0]=$BUN; fi
for i in "${!DARGV[@]}"; do case "${DARGV[$i]}" in /*) ;; */*|*.ts) [ -e "$REPO/${DARGV[$i]}" ] && DARGV[$i]="$REPO/${DARGV[$i]}" ;; esac; done
[ -x "${DARGV[0]}" ] || command -v "${DARGV[0]}" >/dev/null || fail_setup "daemon '${DARGV[0]}' not found (build it with 'bun run build', or pass --daemon)"

# The harness and everything it starts (daemon, Chromium and its helpers) live in one process
# group; whatever way this script ends, the whole group is terminated.
PGID=""
cleanup() {
  [ -n "$PGID" ] || return
  kill -TERM -- "-$PGID" 2>/dev/null || return
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$PGID" 2>/dev/null || return; sleep 0.3; done
  kill -KILL -- "-$PGID" 2>/dev/null
}
trap cleanup EXIT
trap 'echo "E2E FAIL: webrtc: interrupted"; exit 1' INT TERM HUP

cd "$REPO" || exit 1
setsid "$BUN" "$HERE/harness.ts" "${HARGS[@]}" --daemon "${DARGV[@]}" &
PGID=$!
# watchdog: the harness bounds itself (~20 s of media); this catches a hang anywhere else
( for _ in $(seq 240); do sleep 0.5; kill -0 "$PGID" 2>/dev/null || exit 0; done
  echo "E2E FAIL: webrtc: watchdog (120 s)"; kill -TERM -- "-$PGID" 2>/dev/null ) &
WATCHDOG=$!
wait "$PGID"
RC=$?
kill "$WATCHDOG" 2>/dev/null
wait "$WATCHDOG" 2>/dev/null
# the harness cleaned up after itself; anything still in its group is a leak we stop now
STRAY=$(ps -o pid=,stat=,args= -g "$PGID" 2>/dev/null | awk '$2 !~ /^Z/' | cut -c1-120)
[ -n "$STRAY" ] && printf 'note: stray processes in the test group, stopping them:\n%s\n' "$STRAY"
cleanup
PGID=""
[ "$RC" = 0 ] && exit 0
exit 1
