// keep(): values cut from an SDP are detached from it (a JSC slice keeps its whole base alive) and repeats are shared.
import { expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { keep, keepOrNull, keepUnique } from "../../src/sdp/keep.ts";
import { parseSdp } from "../../src/sdp/parse.ts";
import { peerMedias } from "../../src/call/peer.ts";

test("keep returns an equal string, the same one for repeats, and keeps null and empty as they are", () => {
  const a = keep("sendrecv".slice(0));
  expect(a).toBe("sendrecv");
  expect(keep(`send${"recv"}`)).toBe(a);
  expect(keep("")).toBe("");
  expect(keepOrNull(null)).toBeNull();
  expect(keepOrNull(undefined)).toBeNull();
  expect(keepUnique("abc")).toBe("abc");
});

// the property the module exists for: kept pieces must not pin the (large) body they came from
function retainedPerSdp(detach: boolean): number {
  const kept: unknown[] = [];
  Bun.gc(true);
  const before = heapStats().heapSize + heapStats().extraMemorySize;
  for (let i = 0; i < 1000; i++) {
    const body = `v=0\r\no=- ${i} 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.${i % 200}\r\nt=0 0\r\n` +
      `m=audio ${10000 + i} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n` +
      `a=x-padding:${"p".repeat(20000)}${i}\r\n`;
    const pm = peerMedias(parseSdp(body))[0]!;
    kept.push(detach ? pm : { address: body.split("\r\n")[3]!.slice(9) });
  }
  Bun.gc(true);
  const after = heapStats().heapSize + heapStats().extraMemorySize;
  expect(kept.length).toBe(1000);
  return (after - before) / 1000;
}

test("PeerMedia kept from an SDP does not keep the SDP body alive", () => {
  // bodies of 20 KB make the difference stand out of whatever else the test process allocates
  const pinned = retainedPerSdp(false); // control: one raw slice pins its body
  const detached = retainedPerSdp(true);
  expect(pinned).toBeGreaterThan(15000);
  expect(detached).toBeLessThan(6000);
});
