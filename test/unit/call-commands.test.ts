// offer/answer/delete/query/list/statistics handlers over one engine: replies, errors, limits, port lifetime.
import { describe, expect, test } from "bun:test";
import { callHandlers, createCallEngine } from "../../src/call/commands.ts";
import { NgError, type NgDict } from "../../src/control/types.ts";

const IFS = [
  { name: "default", address: "203.0.113.1", advertised: null, family: 4 as const },
  { name: "default", address: "2001:db8:4321::1", advertised: null, family: 6 as const },
];
const OFFER = "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=x\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 2000 RTP/AVP 0 8\r\n";
const ANSWER = "v=0\r\no=- 1 1 IN IP4 198.51.100.3\r\ns=x\r\nc=IN IP4 198.51.100.3\r\nt=0 0\r\nm=audio 3000 RTP/AVP 8\r\n";

function setup(opts: { maxSessions?: number; deleteDelay?: number; portMax?: number } = {}) {
  const engine = createCallEngine({ interfaces: IFS, portMin: 30000, portMax: opts.portMax ?? 30999, deleteDelay: opts.deleteDelay ?? 0, maxSessions: opts.maxSessions ?? -1 });
  return { engine, h: callHandlers(engine) };
}

const portOf = (sdp: unknown) => Number(/m=audio (\d+)/.exec(String(sdp))![1]);

describe("call commands", () => {
  test("offer, answer, query, delete: ports are allocated, reported and freed", () => {
    const { engine, h } = setup();
    const o = h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER });
    const pb = portOf(o.sdp);
    expect(pb % 2).toBe(0);
    expect(String(o.sdp)).toContain(`a=rtcp:${pb + 1}`);
    const an = h.answer!({ "call-id": "c1", "from-tag": "a", "to-tag": "b", sdp: ANSWER });
    const pa = portOf(an.sdp);
    expect(pa).not.toBe(pb);
    expect(String(an.sdp)).toContain("m=audio " + pa + " RTP/AVP 8\r\n");
    const q = h.query!({ "call-id": "c1" });
    const tags = q.tags as NgDict;
    expect(Object.keys(tags).sort()).toEqual(["a", "b"]);
    const ta = tags.a as NgDict;
    expect(ta.tag).toBe("a");
    const media = (ta.medias as NgDict[])[0]!;
    const rtp = (media.streams as NgDict[])[0]!;
    expect(rtp["local port"]).toBe(pa);
    expect(rtp.endpoint).toEqual({ family: "IPv4", address: "198.51.100.1", port: 2000 });
    expect((tags.b as NgDict).subscriptions).toEqual([{ tag: "a", type: "offer/answer" }]);
    expect(h.list!({}).calls).toEqual(["c1"]);
    expect(engine.opts.ports.inUse("203.0.113.1")).toBe(4);
    const d = h.delete!({ "call-id": "c1", "from-tag": "a" });
    expect(d.totals).toBeDefined();
    expect(engine.opts.ports.inUse("203.0.113.1")).toBe(0);
    expect(engine.opts.ports.inUse("2001:db8:4321::1")).toBe(0);
    expect(h.list!({}).calls).toEqual([]);
  });

  test("a re-offer keeps the ports", () => {
    const { h } = setup();
    const p1 = portOf(h.offer!({ "call-id": "c", "from-tag": "a", sdp: OFFER }).sdp);
    const p2 = portOf(h.offer!({ "call-id": "c", "from-tag": "a", sdp: OFFER.replace("2000", "2002") }).sdp);
    expect(p2).toBe(p1);
  });

  test("errors and warnings match rtpengine's texts", () => {
    const { h } = setup();
    expect(() => h.answer!({ "call-id": "nope", "from-tag": "a", "to-tag": "b", sdp: ANSWER })).toThrow("Unknown call-id");
    expect(() => h.query!({ "call-id": "nope" })).toThrow("Unknown call-id");
    expect(h.delete!({ "call-id": "nope", "from-tag": "a" })).toEqual({ warning: "Call-ID not found or tags didn't match" });
    expect(() => h.delete!({ "call-id": "nope", "from-tag": "a", flags: ["fatal"] })).toThrow(NgError);
    expect(() => h.offer!({ "call-id": "c", "from-tag": "a" })).toThrow("No SDP body in message");
    expect(() => h.offer!({ "call-id": "c", sdp: OFFER })).toThrow("No from-tag in message");
    expect(() => h.offer!({ "call-id": "c", "from-tag": "a", sdp: "garbage" })).toThrow("Failed to parse SDP");
    expect(() => h.offer!({ "call-id": "c", "from-tag": "a", sdp: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n" })).toThrow("Incomplete SDP specification");
    // a failed offer leaves no call behind
    expect(h.list!({}).calls).toEqual([]);
  });

  test("max-sessions: error, or `load limit` when the proxy supports it", () => {
    const { h } = setup({ maxSessions: 1 });
    h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER });
    expect(() => h.offer!({ "call-id": "c2", "from-tag": "a", sdp: OFFER })).toThrow("Parallel session limit reached");
    expect(h.offer!({ "call-id": "c2", "from-tag": "a", sdp: OFFER, supports: ["load limit"] }).result).toBe("load limit");
    // an existing call is not limited
    expect(h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER }).sdp).toBeDefined();
  });

  test("running out of ports is an NgError and leaks nothing", () => {
    const { engine, h } = setup({ portMax: 30003 });
    h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER });
    expect(() => h.offer!({ "call-id": "c2", "from-tag": "a", sdp: OFFER })).toThrow(NgError);
    h.delete!({ "call-id": "c1", "from-tag": "a" });
    h.delete!({ "call-id": "c2", "from-tag": "a" });
    expect(engine.opts.ports.inUse("203.0.113.1")).toBe(0);
  });

  test("delete delay keeps the call listed until it expires", async () => {
    const { h } = setup({ deleteDelay: 30 });
    h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER });
    h.delete!({ "call-id": "c1", "from-tag": "a", "delete delay": 0.05 });
    expect(h.list!({}).calls).toEqual(["c1"]);
    await Bun.sleep(120);
    expect(h.list!({}).calls).toEqual([]);
  });

  test("via-branch delete removes only that branch", () => {
    const { engine, h } = setup();
    h.offer!({ "call-id": "c", "from-tag": "a", "via-branch": "b1", sdp: OFFER });
    h.offer!({ "call-id": "c", "from-tag": "a", "via-branch": "b2", sdp: OFFER });
    const before = engine.opts.ports.inUse("203.0.113.1");
    h.delete!({ "call-id": "c", "from-tag": "a", "via-branch": "b1" });
    expect(engine.opts.ports.inUse("203.0.113.1")).toBe(before - 2);
    const an = h.answer!({ "call-id": "c", "from-tag": "a", "to-tag": "t", "via-branch": "b2", sdp: ANSWER });
    expect(String(an.sdp)).toContain("RTP/AVP 8");
  });

  test("an answer with more m= lines than the offer sets the new media up instead of failing", () => {
    const { h } = setup();
    h.offer!({ "call-id": "c", "from-tag": "a", sdp: OFFER });
    const an = h.answer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: ANSWER + "m=video 3002 RTP/AVP 31\r\n" });
    expect(String(an.sdp)).toMatch(/m=video \d+ RTP\/AVP 31\r\na=rtpmap:31 H261\/90000/);
  });

  test("SIP source address: the endpoint is where the SIP message came from", () => {
    const { h } = setup();
    h.offer!({ "call-id": "c", "from-tag": "a", sdp: OFFER, flags: ["SIP source address"], "received from": ["IP4", "198.51.100.77"] });
    const ta = (h.query!({ "call-id": "c" }).tags as NgDict).a as NgDict;
    const rtp = ((ta.medias as NgDict[])[0]!.streams as NgDict[])[0]!;
    expect((rtp.endpoint as NgDict).address).toBe("198.51.100.77");
  });

  test("an ICE restart by the offerer gets it new credentials of ours; the other side keeps its own", () => {
    const { h } = setup();
    const ice = (u: string) => `a=ice-ufrag:${u}\r\na=ice-pwd:${u.repeat(6)}\r\na=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host\r\n`;
    const ufrag = (sdp: unknown) => /a=ice-ufrag:(\w+)/.exec(String(sdp))![1];
    const o1 = h.offer!({ "call-id": "c", "from-tag": "a", sdp: OFFER + ice("aaaa") });
    const a1 = h.answer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: ANSWER + ice("bbbb") });
    const o2 = h.offer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: OFFER + ice("aaaa") });
    const a2 = h.answer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: ANSWER + ice("bbbb") });
    expect(ufrag(o2.sdp)).toBe(ufrag(o1.sdp));
    expect(ufrag(a2.sdp)).toBe(ufrag(a1.sdp));
    const o3 = h.offer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: OFFER + ice("cccc") });
    const a3 = h.answer!({ "call-id": "c", "from-tag": "a", "to-tag": "b", sdp: ANSWER + ice("bbbb") });
    expect(ufrag(o3.sdp)).toBe(ufrag(o1.sdp));
    expect(ufrag(a3.sdp)).not.toBe(ufrag(a1.sdp));
  });

  test("SDES: session parameter flags on our keys, the offerer's keys passed through first", () => {
    const { h } = setup();
    const sdp = OFFER.replace("RTP/AVP 0 8", "RTP/SAVP 0") + "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:Qk0TvVeyfqfjFd/YebnyyklqSEhJntpVKV1KAhHa UNENCRYPTED_SRTCP\r\n";
    const o = String(h.offer!({ "call-id": "c", "from-tag": "a", sdp, DTLS: "off", SDES: ["unencrypted_srtp", "encrypted_srtcp", "no-NULL_HMAC_SHA1_32"] }).sdp);
    const crypto = o.split("\r\n").filter((l) => l.startsWith("a=crypto:"));
    expect(crypto[0]).toBe("a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:Qk0TvVeyfqfjFd/YebnyyklqSEhJntpVKV1KAhHa UNENCRYPTED_SRTP");
    expect(crypto[1]).toMatch(/^a=crypto:6 AEAD_AES_256_GCM inline:[A-Za-z0-9+\/]{59} UNENCRYPTED_SRTP$/);
    expect(crypto.some((l) => l.includes("NULL_HMAC_SHA1_32"))).toBe(false);
    expect(crypto.length).toBe(11);
  });

  test("statistics counts sessions", () => {
    const { h } = setup();
    h.offer!({ "call-id": "c1", "from-tag": "a", sdp: OFFER });
    const s = h.statistics!({}).statistics as NgDict;
    expect((s.currentstatistics as NgDict).sessionsown).toBe(1);
    expect((s.totalstatistics as NgDict).managedsessions).toBe(1);
  });

  test("hostile SDP never throws anything but NgError", () => {
    const { h } = setup();
    const lines = OFFER.split("\r\n");
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const junk = ["m=", "c=IN IP6 zz", "a=rtpmap:", "a=rtpmap:96", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", "a=candidate:", "m=audio 0 RTP/AVP", "a=rtcp:99999", "a=fmtp:0", "a=ptime:abc", "o=", "a=mid:", "a=ssrc:", "c=IN IP4", "a=rtcp-mux", "m=image 1 udptl t38"];
    for (let i = 0; i < 400; i++) {
      const l = [...lines];
      for (let k = 0; k < 3; k++) l.splice(1 + rnd(l.length), rnd(2), junk[rnd(junk.length)]!);
      const sdp = l.join("\r\n");
      for (const cmd of ["offer", "answer"] as const) {
        try {
          h[cmd]!({ "call-id": `f${i % 5}`, "from-tag": "a", "to-tag": "b", sdp, ICE: "force", "transport-protocol": "RTP/SAVP" });
        } catch (e) {
          if (!(e instanceof NgError)) throw new Error(`non-NgError on SDP:\n${sdp}\n${(e as Error).stack}`);
        }
      }
    }
  });
});
