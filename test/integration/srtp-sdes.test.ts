// SDES-SRTP through the daemon over real UDP: RTP<->SRTP and SRTP<->SRTP with other keys, SRTCP, auth failures counted and dropped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { inSeqOrder, mediaOf, Phone } from "./media-helpers.ts";
import { protect, rtcpSr, sdesCryptos as cryptos, srtpContext, unprotect } from "./srtp-helpers.ts";
import { SrtpLibrary, srtpSuiteByName } from "../../src/crypto/srtp.ts";

const H = "127.0.0.1";
let lib: SrtpLibrary;
const ctx = (suite: string, b64: string) => srtpContext(lib, suite, b64);
let seq = 0;

function sdp(port: number, proto: string, crypto: string[] = [], rtcpPort?: number): string {
  const rtcp = rtcpPort ? [`a=rtcp:${rtcpPort}`] : [];
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", ...rtcp, ...crypto.map((c) => `a=${c}`), ""].join("\r\n");
}

/** key||salt as an SDES inline key */
function key(suite: string): { b64: string; raw: Buffer } {
  const s = srtpSuiteByName(suite)!;
  const raw = Buffer.from(Array.from({ length: s.keyLength + s.saltLength }, () => (Math.random() * 256) | 0));
  return { b64: raw.toString("base64"), raw };
}






describe("SDES-SRTP media", () => {
  let d: TestDaemon;
  const phones: Phone[] = [];
  const phone = async () => {
    const p = await Phone.open(H);
    phones.push(p);
    return p;
  };

  beforeAll(async () => {
    lib = new SrtpLibrary();
    expect(lib.init()).toBe(0);
    d = await spawnDaemon({ args: ["--endpoint-learning=immediate", "--port-min=45000", "--port-max=45499", "--delete-delay=0"] });
  });
  afterAll(async () => {
    for (const p of phones) p.close();
    await d?.stop();
  });

  test("plain RTP <-> SDES-SRTP both ways, SRTCP too; a forged packet is counted and dropped", async () => {
    const a = await phone(), b = await phone(), aRtcp = await phone();
    const callId = `sdes-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/AVP", [], aRtcp.port), "transport-protocol": "RTP/SAVP" });
    expect(o.result).toBe("ok");
    const offered = cryptos(o.sdp as string);
    const ours = offered.find((c) => c.suite === "AES_CM_128_HMAC_SHA1_80")!;
    expect(ours).toBeDefined();
    const bKey = key("AES_CM_128_HMAC_SHA1_80");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} AES_CM_128_HMAC_SHA1_80 inline:${bKey.b64}`]) });
    expect(an.result).toBe("ok");
    expect(an.sdp as string).not.toContain("a=crypto");
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    const bOut = ctx("AES_CM_128_HMAC_SHA1_80", bKey.b64); // B protects with its key
    const bIn = ctx("AES_CM_128_HMAC_SHA1_80", ours.key); // B unprotects with ours

    // A -> B: plain in, SRTP out
    const sent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const p = a.rtp();
      sent.push(Buffer.from(p));
      a.send(toA.port, p);
      await Bun.sleep(2);
    }
    expect(await b.waitFor(5)).toBe(5);
    const atB = inSeqOrder(b.got.map((g) => g.data));
    for (let i = 0; i < 5; i++) {
      expect(atB[i]!.length).toBe(sent[i]!.length + 10);
      expect(unprotect(bIn, atB[i]!)).toEqual(sent[i]!);
    }
    // B -> A: SRTP in, plain out
    const bSent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const p = b.rtp();
      bSent.push(Buffer.from(p));
      b.send(toB.port, protect(bOut, p));
      await Bun.sleep(2);
    }
    expect(await a.waitFor(5)).toBe(5);
    const atA = inSeqOrder(a.got.map((g) => g.data));
    for (let i = 0; i < 5; i++) expect(atA[i]!).toEqual(bSent[i]!);
    // SRTCP from B arrives at A's RTCP port as RTCP
    const sr = rtcpSr(b.ssrc);
    b.send(toB.port + 1, protect(bOut, sr, true));
    expect(await aRtcp.waitFor(1)).toBe(1);
    expect(aRtcp.got[0]!.data).toEqual(sr);
    // forged: a flipped payload byte fails authentication
    const forged = protect(bOut, b.rtp());
    forged[20]! ^= 0xff;
    b.send(toB.port, forged);
    await Bun.sleep(200);
    expect(a.got.length).toBe(5); // the forged packet did not arrive (RTCP goes to A's port + 1)
    const q = await d.ng({ command: "query", "call-id": callId });
    const tagB = (q.tags as Record<string, { medias: { streams: { stats: { errors: number } }[] }[] }>)["B"]!;
    expect(tagB.medias[0]!.streams[0]!.stats.errors).toBeGreaterThanOrEqual(1);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("SRTP <-> SRTP with different keys (the answerer picks one of our suites)", async () => {
    const a = await phone(), b = await phone();
    const callId = `sdes-${process.pid}-${++seq}`;
    const aKey = key("AES_CM_128_HMAC_SHA1_80");
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/SAVP", [`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${aKey.b64}`]) });
    expect(o.result).toBe("ok");
    const ours = cryptos(o.sdp as string).find((c) => c.suite === "AEAD_AES_256_GCM")!;
    expect(ours).toBeDefined();
    const bKey = key("AEAD_AES_256_GCM");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} AEAD_AES_256_GCM inline:${bKey.b64}`]) });
    expect(an.result).toBe("ok");
    const back = cryptos(an.sdp as string);
    expect(back.length).toBe(1);
    expect(back[0]!.suite).toBe("AES_CM_128_HMAC_SHA1_80");
    expect(back[0]!.key).not.toBe(aKey.b64.replace(/=+$/, ""));
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    const aOut = ctx("AES_CM_128_HMAC_SHA1_80", aKey.b64), aIn = ctx("AES_CM_128_HMAC_SHA1_80", back[0]!.key);
    const bOut = ctx("AEAD_AES_256_GCM", bKey.b64), bIn = ctx("AEAD_AES_256_GCM", ours.key);

    const pa = a.rtp();
    a.send(toA.port, protect(aOut, pa));
    expect(await b.waitFor(1)).toBe(1);
    expect(unprotect(bIn, b.got[0]!.data)).toEqual(pa);
    const pb = b.rtp();
    b.send(toB.port, protect(bOut, pb));
    expect(await a.waitFor(1)).toBe(1);
    expect(unprotect(aIn, a.got[0]!.data)).toEqual(pb);
    await d.ng({ command: "delete", "call-id": callId });
  });
});
