#!/usr/bin/env bash
# End-to-end signalling: Kamailio (rtpengine module) in front of the media proxy, two sipp endpoints;
# a call is set up, re-INVITEd (hold) and torn down, and the SDP each endpoint receives must point
# at the media proxy. Everything runs in a throw-away network namespace.
#
#   bash test/e2e/kamailio-sipp/run.sh [--daemon CMD] [--no-media] [--keep-logs]
#   CMD: "bun src/main.ts" (default), dist/rtpengine, or /usr/bin/rtpengine (the reference)
# Needs root, iproute2, kamailio (+ its rtpengine module), sip-tester (sipp). Exit 0 = PASS, 1 = FAIL.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
DAEMON="bun src/main.ts"
KEEP=0
MEDIA=1
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon) DAEMON=$2; shift 2 ;;
    --daemon=*) DAEMON=${1#--daemon=}; shift ;;
    --keep-logs) KEEP=1; shift ;;
    --no-media) MEDIA=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# addresses inside the namespace (documentation ranges only)
MEDIA_IP=203.0.113.1      # the media proxy's interface
PROXY_IP=203.0.113.10     # Kamailio
UAC_IP=198.51.100.10      # caller
UAS_IP=198.51.100.20      # callee
PORT_MIN=30000 PORT_MAX=30099
NS="e2e-kam-$$"
LOG=$(mktemp -d /tmp/e2e-kamailio-XXXXXX)

fail_setup() { echo "E2E FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" = 0 ] || fail_setup "needs root (ip netns)"
for t in ip kamailio sipp; do command -v $t >/dev/null || fail_setup "$t not found (apt-get install -y iproute2 kamailio sip-tester)"; done
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ] || [ -n "$(find /usr/lib -name rtpengine.so -path '*kamailio*' 2>/dev/null | head -1)" ] || fail_setup "kamailio rtpengine module missing (apt-get install -y kamailio)"

# daemon argv: a leading "bun" is this repo's bun; relative paths are relative to the repo
read -r -a DARGV <<<"$DAEMON"
if [ "${DARGV[0]}" = bun ]; then DARGV[0]=$(command -v bun || echo "$REPO/node_modules/.bin/bun"); fi
for i in "${!DARGV[@]}"; do case "${DARGV[$i]}" in /*) ;; */*|*.ts) [ -e "$REPO/${DARGV[$i]}" ] && DARGV[$i]="$REPO/${DARGV[$i]}" ;; esac; done
BUN=$(command -v bun || echo "$REPO/node_modules/.bin/bun")
[ -x "${DARGV[0]}" ] || command -v "${DARGV[0]}" >/dev/null || fail_setup "daemon '${DARGV[0]}' not found"

cleanup() {
  local pids
  pids=$(ip netns pids "$NS" 2>/dev/null)
  [ -n "$pids" ] && kill $pids 2>/dev/null && sleep 0.3
  pids=$(ip netns pids "$NS" 2>/dev/null)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  if [ "$KEEP" = 0 ] && [ "${RESULT:-FAIL}" = PASS ]; then rm -rf "$LOG"; else echo "logs: $LOG"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

nsx() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || fail_setup "ip netns add failed"
nsx ip link set lo up
for a in $MEDIA_IP $PROXY_IP $UAC_IP $UAS_IP; do nsx ip addr add "$a/32" dev lo; done

dump_logs() {
  for f in media.out daemon.log kamailio.log uas.out uac.out uas_logs.log uac_logs.log uas_err.log uac_err.log; do
    [ -s "$LOG/$f" ] && { echo "--- $f (tail)"; tail -n 25 "$LOG/$f"; }
  done
}

echo "e2e: daemon '$DAEMON', logs in $LOG"
(cd "$REPO" && exec ip netns exec "$NS" "${DARGV[@]}" --config-file=none -t -1 -i "$MEDIA_IP" -n 127.0.0.1:2223 \
  -f -E -L 7 --port-min=$PORT_MIN --port-max=$PORT_MAX >"$LOG/daemon.log" 2>&1) &
nsx "$BUN" "$HERE/ng.ts" 127.0.0.1:2223 wait-ping 20000 || { dump_logs; fail_setup "media proxy did not answer ping"; }

nsx kamailio -f "$HERE/kamailio.cfg" -DD -E -l "udp:$PROXY_IP:5060" -n 2 -P "$LOG/kamailio.pid" -w "$LOG" -Y "$LOG" \
  -A 'NGSOCK="udp:127.0.0.1:2223"' >"$LOG/kamailio.log" 2>&1 &
for _ in $(seq 50); do nsx ss -uln 2>/dev/null | grep -q "$PROXY_IP:5060" && break; sleep 0.1; done
nsx ss -uln | grep -q "$PROXY_IP:5060" || { dump_logs; fail_setup "kamailio did not start"; }

SIPP_COMMON=(-nostdin -m 1 -timeout 20 -timeout_error -trace_logs -trace_err -trace_msg)
(cd "$LOG" && exec ip netns exec "$NS" sipp -sf "$HERE/uas.xml" -i $UAS_IP -mi $UAS_IP -p 5080 "${SIPP_COMMON[@]}" \
  -log_file "$LOG/uas_logs.log" -error_file "$LOG/uas_err.log" -message_file "$LOG/uas_msg.log" >"$LOG/uas.out" 2>&1) &
UAS_PID=$!
# RTP both ways while the call is up (the caller pauses 2 s after the first ACK)
if [ "$MEDIA" = 1 ]; then
  nsx "$BUN" "$HERE/media-check.ts" "$LOG" "$UAC_IP:16000" "$UAS_IP:17000" "$MEDIA_IP" >"$LOG/media.out" 2>&1 &
  MEDIA_PID=$!
fi
sleep 0.5
(cd "$LOG" && exec ip netns exec "$NS" sipp -sf "$HERE/uac.xml" -i $UAC_IP -mi $UAC_IP -p 5070 "${SIPP_COMMON[@]}" \
  -key uas_addr "$UAS_IP:5080" -log_file "$LOG/uac_logs.log" -error_file "$LOG/uac_err.log" -message_file "$LOG/uac_msg.log" \
  "$PROXY_IP:5060" >"$LOG/uac.out" 2>&1)
UAC_RC=$?
# a failed caller leaves the callee waiting for its timeout: give it a moment, then stop it
if [ "$UAC_RC" != 0 ]; then for _ in $(seq 20); do kill -0 $UAS_PID 2>/dev/null || break; sleep 0.1; done; kill $UAS_PID 2>/dev/null; fi
wait $UAS_PID
UAS_RC=$?
MEDIA_RC=skip
if [ "$MEDIA" = 1 ]; then wait $MEDIA_PID; MEDIA_RC=$?; fi

pass=0 failn=0
check() { # description, condition...
  local what=$1; shift
  if "$@"; then echo "  ok   $what"; pass=$((pass + 1)); else echo "  FAIL $what"; failn=$((failn + 1)); fi
}
field() { grep -o "$1 .*" "$LOG/$2" 2>/dev/null | head -1 | grep -o " $3=[^ ]*" | head -1 | cut -d= -f2 | tr -d '[]'; }
in_range() { [ -n "$1" ] && [ "$1" -ge $PORT_MIN ] && [ "$1" -le $PORT_MAX ]; }

check "caller sipp completed the call (exit $UAC_RC)" test "$UAC_RC" = 0
check "callee sipp completed the call (exit $UAS_RC)" test "$UAS_RC" = 0
o1c=$(field "UAS OFFER1" uas_logs.log c)   o1p=$(field "UAS OFFER1" uas_logs.log port)
o2c=$(field "UAS OFFER2" uas_logs.log c)   o2p=$(field "UAS OFFER2" uas_logs.log port)
a1c=$(field "UAC ANSWER1" uac_logs.log c)  a1p=$(field "UAC ANSWER1" uac_logs.log port)
a2c=$(field "UAC ANSWER2" uac_logs.log c)  a2p=$(field "UAC ANSWER2" uac_logs.log port)
leaks=$(grep -ho "leak=\[[^]]*\]" "$LOG"/ua[cs]_logs.log 2>/dev/null | grep -v 'leak=\[\]')
check "INVITE at callee: c=$o1c is the media proxy ($MEDIA_IP)" test "$o1c" = "$MEDIA_IP"
check "INVITE at callee: port $o1p is a media proxy port" in_range "$o1p"
check "200 OK at caller: c=$a1c is the media proxy" test "$a1c" = "$MEDIA_IP"
check "200 OK at caller: port $a1p is a media proxy port" in_range "$a1p"
check "caller and callee got different proxy ports ($a1p / $o1p)" test -n "$o1p" -a "$o1p" != "$a1p"
check "re-INVITE at callee: c=$o2c, same port $o2p as before" test "$o2c" = "$MEDIA_IP" -a -n "$o2p" -a "$o2p" = "$o1p"
check "re-INVITE 200 OK at caller: c=$a2c, same port $a2p as before" test "$a2c" = "$MEDIA_IP" -a -n "$a2p" -a "$a2p" = "$a1p"
check "no endpoint address leaked into the SDP the other side received" test -n "$o1p" -a -n "$a1p" -a -z "$leaks"
check "kamailio sent offer, answer and delete to the media proxy" \
  bash -c "grep -q 'E2E: INVITE' '$LOG/kamailio.log' && grep -q 'E2E: re-INVITE' '$LOG/kamailio.log' && grep -q 'answer for' '$LOG/kamailio.log' && grep -q 'E2E: BYE' '$LOG/kamailio.log'"
if [ "$MEDIA" = 1 ]; then
  check "RTP flows both ways through the proxy: $(tail -n 1 "$LOG/media.out" 2>/dev/null)" test "$MEDIA_RC" = 0
fi

echo "$pass passed, $failn failed"
if [ "$failn" = 0 ]; then RESULT=PASS; echo "E2E PASS"; exit 0; fi
dump_logs
echo "E2E FAIL"
exit 1
