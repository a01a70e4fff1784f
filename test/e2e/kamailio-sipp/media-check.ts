// During the e2e call: RTP from the caller's and callee's SDP ports to the proxy ports sipp logged; each side must receive the other's.
//
//   bun media-check.ts LOGDIR CALLER_IP:PORT CALLEE_IP:PORT PROXY_IP
// Waits for "UAC ANSWER1" / "UAS OFFER1" in the sipp logs (the proxy ports each side got),
// then sends 10 packets each way and prints "MEDIA caller->callee N/10 callee->caller M/10".
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [logDir, callerSpec, calleeSpec, proxyIp] = Bun.argv.slice(2) as [string, string, string, string];
const split = (s: string): [string, number] => [s.slice(0, s.lastIndexOf(":")), Number(s.slice(s.lastIndexOf(":") + 1))];
const [callerIp, callerPort] = split(callerSpec);
const [calleeIp, calleePort] = split(calleeSpec);
const COUNT = 10;

function loggedPort(file: string, tagLine: string): number | null {
  try {
    const m = new RegExp(`${tagLine} c=\\S+ port=\\[?(\\d+)`).exec(readFileSync(join(logDir, file), "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// the caller sends to the port in the answer it received, the callee to the port in its offer
let toFromCaller: number | null = null;
let toFromCallee: number | null = null;
const deadline = Date.now() + 15_000;
while (Date.now() < deadline && (toFromCaller === null || toFromCallee === null)) {
  toFromCaller = loggedPort("uac_logs.log", "UAC ANSWER1");
  toFromCallee = loggedPort("uas_logs.log", "UAS OFFER1");
  await Bun.sleep(50);
}
if (toFromCaller === null || toFromCallee === null) {
  console.log("MEDIA not checked: sipp never logged the proxy ports");
  process.exit(1);
}

const got = { atCallee: 0, atCaller: 0 };
const isOurs = (b: Uint8Array) => b.length >= 12 && (b[0]! & 0xc0) === 0x80 && (b[8]! === 0xe2 || b[8]! === 0xe3);
const caller = await Bun.udpSocket({ hostname: callerIp, port: callerPort, socket: { data: (_s, b) => void (isOurs(b) && got.atCaller++), error: () => {} } });
const callee = await Bun.udpSocket({ hostname: calleeIp, port: calleePort, socket: { data: (_s, b) => void (isOurs(b) && got.atCallee++), error: () => {} } });

function rtp(seq: number, ssrcTag: number): Uint8Array {
  const b = Buffer.alloc(172, 0xff);
  b[0] = 0x80;
  b[1] = 0; // PCMU
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(((ssrcTag << 24) | 0x123456) >>> 0, 8); // first SSRC byte marks the direction
  return b;
}
for (let i = 0; i < COUNT; i++) {
  caller.send(rtp(1000 + i, 0xe2), toFromCaller, proxyIp);
  callee.send(rtp(2000 + i, 0xe3), toFromCallee, proxyIp);
  await Bun.sleep(20);
}
await Bun.sleep(300);
caller.close();
callee.close();
console.log(`MEDIA caller->callee ${got.atCallee}/${COUNT} callee->caller ${got.atCaller}/${COUNT} (proxy ports ${toFromCaller} / ${toFromCallee})`);
// the first packet of each direction may be spent on latching; most must arrive
process.exit(got.atCallee >= COUNT - 2 && got.atCaller >= COUNT - 2 ? 0 : 1);
