// Random offer/answer/delete sequences with mixed media and flags: only NgErrors, and no port leaks.
import { expect, test } from "bun:test";
import { callHandlers, createCallEngine } from "../../src/call/commands.ts";
import { NgError, type NgDict } from "../../src/control/types.ts";

test("random signalling sequences never crash and never leak ports", () => {
  const e = createCallEngine({
    interfaces: [
      { name: "default", address: "203.0.113.1", advertised: null, family: 4 },
      { name: "default", address: "2001:db8:4321::1", advertised: null, family: 6 },
      { name: "x", address: "203.0.113.2", advertised: "192.0.2.9", family: 4 },
    ],
    portMin: 30000,
    portMax: 30200,
    deleteDelay: 0,
    maxSessions: 50,
  });
  const h = callHandlers(e);
  let seed = 12345;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const pick = <T>(a: T[]): T => a[rnd(a.length)]!;
  const medias = [
    "m=audio 2000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
    "m=audio 0 RTP/AVP 0\r\n",
    "m=video 2002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n",
    "m=image 2004 udptl t38\r\na=T38FaxVersion:0\r\n",
    "m=audio 2006 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Qk0TvVeyfqfjFd/YebnyyklqSEhJntpVKV1KAhHa\r\n",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=setup:actpass\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=rtcp-mux\r\n",
    "m=message 2008 TCP/MSRP *\r\n",
    "m=audio 2010 RTP/AVP\r\n",
  ];
  const conns = ["c=IN IP4 198.51.100.1\r\n", "c=IN IP6 2001:db8::1\r\n", "c=IN IP4 0.0.0.0\r\n", ""];
  const flagsets: NgDict[] = [
    {}, { ICE: "force" }, { ICE: "remove" }, { ICE: "optional" }, { "transport-protocol": "RTP/SAVP" }, { "transport-protocol": "UDP/TLS/RTP/SAVPF" },
    { "rtcp-mux": ["demux"] }, { "rtcp-mux": ["require", "offer"] }, { codec: { strip: ["all"], transcode: ["opus", "telephone-event"] } },
    { codec: { mask: ["PCMU"], consume: ["PCMA"], accept: ["all"] } }, { "T.38": ["force"] }, { "T.38": ["decode"] }, { direction: ["x", "default"] },
    { "address-family": "IP6" }, { replace: ["origin", "sdp-version", "username", "session-name", "zero-address"] },
    { flags: ["loop-protect", "generate-mid", "strip-extmap", "original-sendrecv", "single-codec", "trickle-ice", "reset"] },
    { SDES: ["off"] }, { DTLS: "off" }, { "ICE-lite": "both" }, { "media-address": "192.0.2.1" }, { ptime: 30, "ptime-reverse": 20 },
    { "via-branch": "v1" }, { "via-branch": "v2" }, { OSRTP: ["offer", "accept"] },
  ];
  let ok = 0;
  for (let i = 0; i < 1500; i++) {
    let sdp = `v=0\r\no=- 1 ${rnd(3)} IN IP4 198.51.100.1\r\ns=x\r\n${pick(conns)}t=0 0\r\n`;
    for (let k = rnd(4); k > 0; k--) sdp += pick(medias) + (rnd(2) ? pick(conns) : "");
    const cmd = pick(["offer", "offer", "answer", "answer", "delete", "query", "list", "statistics"]);
    const req: NgDict = { "call-id": `c${rnd(8)}`, "from-tag": pick(["a", "b", "c"]), sdp, ...pick(flagsets), ...pick(flagsets) };
    if (cmd === "answer" || rnd(3) === 0) req["to-tag"] = pick(["a", "b", "c"]);
    try {
      h[cmd]!(req);
      ok++;
    } catch (err) {
      if (!(err instanceof NgError)) throw new Error(`${cmd} ${JSON.stringify(req)}: ${(err as Error).stack}`);
    }
  }
  expect(ok).toBeGreaterThan(500);
  e.clear();
  for (const a of ["203.0.113.1", "2001:db8:4321::1", "203.0.113.2"]) expect(e.opts.ports.inUse(a)).toBe(0);
});
