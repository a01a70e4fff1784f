// Media relay over real UDP: learning, strict source, handover, RTCP, block/silence media, TOS, timeouts — fast path on and off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { DENO, spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { audioSdp, inSeqOrder, mediaOf, Phone, portFree, portFreed, setupCall, tosReceiver } from "./media-helpers.ts";

const H = "127.0.0.1";

for (const fast of [true, false]) {
  const plane = fast ? "fast path on" : "fast path off";

  describe(`media relay (${plane})`, () => {
    let d: TestDaemon;
    const phones: Phone[] = [];
    const phone = async (host = H) => {
      const p = await Phone.open(host);
      phones.push(p);
      return p;
    };

    beforeAll(async () => {
      d = await spawnDaemon({
        args: ["-i", "v6/::1", "--endpoint-learning=immediate", "--port-min=42000", "--port-max=42999", "--delete-delay=0", "--tos=184"],
        env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" },
      });
    });
    afterAll(async () => {
      for (const p of phones) p.close();
      await d?.stop();
    });

    test("RTP flows both ways after learning; counters appear in query", async () => {
      expect(d.log()).not.toContain("not supported by this version (ignored): --endpoint-learning");
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      await a.burst(c.toA.port, 5);
      await b.burst(c.toB.port, 5);
      expect(await b.waitFor(5)).toBe(5);
      expect(await a.waitFor(5)).toBe(5);
      // packets reach each phone from the proxy port advertised to it
      expect(b.got[0]!.from.port).toBe(c.toB.port);
      expect(a.got[0]!.from.port).toBe(c.toA.port);
      // after learning: a longer stream (the fast path takes it when enabled)
      await Bun.sleep(50);
      a.clear();
      b.clear();
      await a.burst(c.toA.port, 100, 1);
      await b.burst(c.toB.port, 100, 1);
      expect(await b.waitFor(100)).toBe(100);
      expect(await a.waitFor(100)).toBe(100);
      await Bun.sleep(1200); // fast-path counters are read once a second
      const q = await d.ng({ command: "query", "call-id": c.callId });
      const rtp = (q.totals as { RTP: { packets: number; bytes: number } }).RTP;
      expect(rtp.packets).toBe(210);
      expect(rtp.bytes).toBe(210 * 172);
      const tags = q.tags as Record<string, { medias: Array<{ streams: Array<{ stats: { packets: number }; "last packet": number }> }> }>;
      expect(tags.A!.medias[0]!.streams[0]!.stats.packets).toBe(105);
      expect(tags.B!.medias[0]!.streams[0]!.stats.packets).toBe(105);
      expect(Math.abs(tags.A!.medias[0]!.streams[0]!["last packet"] - Date.now() / 1000)).toBeLessThan(5);
      expect((tags.A!.medias[0]!.streams[0] as unknown as { SSRC: number }).SSRC).toBe(a.ssrc);
      // both planes must have carried it: the fast path only once learning is over
      const flags = (t: string) => (tags[t]!.medias[0]!.streams[0] as unknown as { flags: string[] }).flags;
      expect(flags("A")).toContain("confirmed");
      // as rtpengine 10.5 without its kernel module: "kernelized" + "no kernel support" once learned, either plane
      expect(flags("A")).toEqual(expect.arrayContaining(["kernelized", "no kernel support"]));
      expect(flags("B")).toContain("kernelized");
      // statistics: the fast path counts as "kernel", the slow path as "user"
      const st = ((await d.ng({ command: "statistics" })).statistics as { totalstatistics: Record<string, number>; currentstatistics: Record<string, number> });
      expect(st.totalstatistics.relayedpackets).toBeGreaterThanOrEqual(210);
      expect(st.totalstatistics.relayedpackets_kernel! > 0).toBe(fast);
      expect(st.currentstatistics.media_kernel! > 0).toBe(fast);
    });

    test("symmetric latching: B's media goes where A really sends from, not the SDP port", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, { host: H, port: 9 }, b); // A advertises a port it does not use (NAT)
      await b.burst(c.toB.port, 3);
      await Bun.sleep(100);
      expect(a.got.length).toBe(0);
      await a.burst(c.toA.port, 3);
      expect(await b.waitFor(3)).toBe(3);
      await b.burst(c.toB.port, 20, 1);
      expect(await a.waitFor(20)).toBe(20);
    });

    test("asymmetric: nothing is learned, media goes to the SDP address", async () => {
      const a = await phone(), aSdp = await phone(), b = await phone();
      const c = await setupCall(d, aSdp, b, { offer: { flags: ["asymmetric"] } });
      await a.burst(c.toA.port, 5); // A sends from another port than the one in its SDP
      expect(await b.waitFor(5)).toBe(5);
      await b.burst(c.toB.port, 10, 1);
      expect(await aSdp.waitFor(10)).toBe(10);
      expect(a.got.length).toBe(0);
    });

    test("strict source: after learning, packets from another source are dropped", async () => {
      const a = await phone(), a2 = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { offer: { flags: ["strict source"] } });
      await a.burst(c.toA.port, 5);
      expect(await b.waitFor(5)).toBe(5);
      await Bun.sleep(50);
      await a2.burst(c.toA.port, 20, 1);
      await a.burst(c.toA.port, 5);
      expect(await b.waitFor(10)).toBe(10);
      await Bun.sleep(150);
      expect(b.got.length).toBe(10); // nothing from a2
      await b.burst(c.toB.port, 5);
      expect(await a.waitFor(5)).toBe(5);
      expect(a2.got.length).toBe(0);
    });

    test("without strict source, other sources are still forwarded (endpoint unchanged)", async () => {
      const a = await phone(), a2 = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      await a.burst(c.toA.port, 5);
      expect(await b.waitFor(5)).toBe(5);
      await Bun.sleep(50);
      await a2.burst(c.toA.port, 5);
      expect(await b.waitFor(10)).toBe(10);
      await b.burst(c.toB.port, 5);
      expect(await a.waitFor(5)).toBe(5);
      expect(a2.got.length).toBe(0);
    });

    test("media handover: a new source takes over the endpoint", async () => {
      const a = await phone(), a2 = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { offer: { flags: ["media handover"] } });
      await a.burst(c.toA.port, 5);
      expect(await b.waitFor(5)).toBe(5);
      await Bun.sleep(50);
      await a2.burst(c.toA.port, 5);
      expect(await b.waitFor(10)).toBe(10);
      await Bun.sleep(50);
      await b.burst(c.toB.port, 10, 1);
      expect(await a2.waitFor(10)).toBe(10);
      expect(a.got.length).toBe(0);
    });

    test("RTCP goes RTCP port to RTCP port", async () => {
      const a = await phone(), aRtcp = await phone(), b = await phone(), bRtcp = await phone();
      const rtcp = (p: Phone) => {
        const x = Buffer.alloc(28);
        x[0] = 0x80;
        x[1] = 200; // SR
        x.writeUInt16BE(6, 2);
        x.writeUInt32BE(p.ssrc, 4);
        return x;
      };
      // explicit a=rtcp ports, not RTP + 1
      const callId = `rtcp-${Date.now()}`;
      const sdp = (p: Phone, r: Phone) => `v=0\r\no=- 1 1 IN IP4 ${H}\r\ns=-\r\nc=IN IP4 ${H}\r\nt=0 0\r\nm=audio ${p.port} RTP/AVP 0\r\na=rtcp:${r.port}\r\n`;
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a, aRtcp) });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b, bRtcp) });
      const toB = Number(/m=audio (\d+)/.exec(o.sdp as string)![1]);
      const toA = Number(/m=audio (\d+)/.exec(an.sdp as string)![1]);
      aRtcp.send(toA + 1, rtcp(aRtcp));
      bRtcp.send(toB + 1, rtcp(bRtcp));
      expect(await bRtcp.waitFor(1)).toBe(1);
      expect(await aRtcp.waitFor(1)).toBe(1);
      expect(bRtcp.got[0]!.from.port).toBe(toB + 1);
      expect(b.got.length + a.got.length).toBe(0);
    });

    test("rtcp-mux on one side only: RTCP is demuxed towards B and muxed towards A", async () => {
      const a = await phone(), b = await phone(), bRtcp = await phone();
      const callId = `mux-${Date.now()}-${fast}`;
      const rtcp = (p: Phone) => {
        const x = Buffer.alloc(28);
        x[0] = 0x80;
        x[1] = 201; // RR
        x.writeUInt16BE(6, 2);
        x.writeUInt32BE(p.ssrc, 4);
        return x;
      };
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "rtcp-mux": ["demux"], sdp: audioSdp(H, a.port, ["a=rtcp-mux"]) });
      expect(o.sdp as string).not.toContain("a=rtcp-mux");
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: audioSdp(H, b.port, [`a=rtcp:${bRtcp.port}`]) });
      expect(an.sdp as string).toContain("a=rtcp-mux");
      const toA = mediaOf(an.sdp as string).port, toB = mediaOf(o.sdp as string).port;
      for (let i = 0; i < 3; i++) {
        a.send(toA, rtcp(a)); // muxed: RTCP on the RTP port
        a.send(toA);
        bRtcp.send(toB + 1, rtcp(bRtcp));
        b.send(toB);
        await Bun.sleep(5);
      }
      expect(await bRtcp.waitFor(3)).toBe(3);
      expect(await b.waitFor(3)).toBe(3);
      expect(await a.waitFor(6)).toBe(6);
      expect(bRtcp.got.every((x) => x.data[1] === 201)).toBe(true);
      expect(b.got.every((x) => x.data[1] === 0)).toBe(true);
      expect(a.got.filter((x) => x.data[1] === 201).length).toBe(3);
      const q = await d.ng({ command: "query", "call-id": callId });
      expect((q.totals as { RTCP: { packets: number } }).RTCP.packets).toBe(6);
    });

    test("block media / unblock media; DTMF still passes a block", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      await a.burst(c.toA.port, 3);
      expect(await b.waitFor(3)).toBe(3);
      expect((await d.ng({ command: "block media", "call-id": c.callId, "from-tag": "A" })).result).toBe("ok");
      b.clear();
      await a.burst(c.toA.port, 10, 1);
      await a.burst(c.toA.port, 2, 1, () => a.rtp(101)); // telephone-event
      await b.burst(c.toB.port, 5);
      expect(await a.waitFor(5)).toBe(5); // the other direction is untouched
      await Bun.sleep(100);
      expect(b.got.map((x) => x.data[1]! & 0x7f)).toEqual([101, 101]);
      expect((await d.ng({ command: "unblock media", "call-id": c.callId, "from-tag": "A" })).result).toBe("ok");
      b.clear();
      await a.burst(c.toA.port, 10, 1);
      expect(await b.waitFor(10)).toBe(10);
      // whole-call block, then block DTMF
      await d.ng({ command: "block media", "call-id": c.callId });
      await d.ng({ command: "block DTMF", "call-id": c.callId });
      b.clear();
      await a.burst(c.toA.port, 5, 1);
      await a.burst(c.toA.port, 2, 1, () => a.rtp(101));
      await Bun.sleep(150);
      expect(b.got.length).toBe(0);
      expect((await d.ng({ command: "block media", "call-id": "no-such-call" })).result).toBe("error");
    });

    test("block DTMF drops RFC 4733 events only; DTMF-security modes rewrite them or send G.711 audio instead", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      const r = await d.ng({ command: "block DTMF", "call-id": c.callId, "from-tag": "A" });
      expect(r).toEqual({ result: "ok" });
      await a.burst(c.toA.port, 3, 1);
      await a.burst(c.toA.port, 2, 1, () => a.rtp(101));
      await a.burst(c.toA.port, 3, 1);
      expect(await b.waitFor(6)).toBe(6);
      await Bun.sleep(100);
      expect(b.got.map((x) => x.data[1]! & 0x7f)).toEqual([0, 0, 0, 0, 0, 0]);
      // digit 5 pressed, 20 ms of it in each packet (each packet starts a new event: its own timestamp)
      const press = () => {
        const p = a.rtp(101).subarray(0, 16);
        p[12] = 5;
        p[13] = 0;
        p.writeUInt16BE(160, 14);
        return p;
      };
      const modeRun = async (security: Record<string, unknown>, n = 3) => {
        const res = await d.ng({ command: "block DTMF", "call-id": c.callId, "from-tag": "A", ...security });
        expect(res).toEqual({ result: "ok" });
        b.clear();
        await a.burst(c.toA.port, n, 1, press);
        expect(await b.waitFor(n)).toBe(n);
        return inSeqOrder(b.got.map((x) => x.data));
      };
      for (const p of await modeRun({ "DTMF-security": "DTMF", digit: "#", volume: -12 })) expect([p[1]! & 0x7f, p[12], p[13]]).toEqual([101, 11, 12]);
      for (const p of await modeRun({ "DTMF-security": "zero" })) expect([p[1]! & 0x7f, p[12], p[13]]).toEqual([101, 0, 10]);
      for (const p of await modeRun({ "DTMF-security": "random" })) expect(p[12] !== 5 && p[12]! < 12).toBe(true);
      for (const p of await modeRun({ "DTMF-security": "silence" })) {
        expect([p[1]! & 0x7f, p.length]).toEqual([0, 172]);
        expect(p.subarray(12).every((x) => x === 0xff)).toBe(true);
      }
      for (const p of await modeRun({ "DTMF-security": "tone", frequency: 1000 })) {
        expect([p[1]! & 0x7f, p.length]).toEqual([0, 172]);
        expect(new Set(p.subarray(12)).size).toBeGreaterThan(4); // a sine, not a fill
      }
      const t = await d.ng({ command: "block DTMF", "call-id": c.callId, "DTMF-security": "zero", trigger: "*9" });
      expect(t.result).toBe("error");
      expect(String(t["error-reason"])).toContain("not implemented");
      await d.ng({ command: "unblock DTMF", "call-id": c.callId, flags: ["all"] });
      b.clear();
      await a.burst(c.toA.port, 2, 1, press);
      expect(await b.waitFor(2)).toBe(2);
      expect(b.got.map((x) => [x.data[1]! & 0x7f, x.data[12]])).toEqual([[101, 5], [101, 5]]);
    });

    test("NAT-wait: nothing goes to the flagged side until it sent a packet", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { answer: { flags: ["NAT-wait"] } });
      await a.burst(c.toA.port, 3, 1);
      await Bun.sleep(150);
      expect(b.got.length).toBe(0);
      await b.burst(c.toB.port, 3, 1);
      expect(await a.waitFor(3)).toBe(3); // A did not ask to wait
      await a.burst(c.toA.port, 3, 1);
      expect(await b.waitFor(3)).toBe(3);
    });

    test("pierce NAT: probes from our port to the SDP address once a second until the side sends", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { offer: { flags: ["pierce NAT"] } });
      expect(await a.waitFor(1, 2500)).toBe(1);
      const probe = a.got[0]!;
      expect(probe.from.port).toBe(c.toA.port);
      expect(probe.data.toString("hex")).toBe("807fffff0000000000000000");
      expect(b.got.length).toBe(0); // B did not ask
      await a.burst(c.toA.port, 2, 1);
      expect(await b.waitFor(2)).toBe(2);
      a.clear();
      await Bun.sleep(2200);
      expect(a.got.length).toBe(0);
    });

    test("block media selects participants by label and by SDP address", async () => {
      const a = await phone(), b = await phone("::1");
      const c = await setupCall(d, a, b, { offer: { label: "caller", "set-label": "callee", direction: ["default", "v6"] } });
      await d.ng({ command: "block media", "call-id": c.callId, label: "callee" });
      await a.burst(c.toA.port, 5, 1);
      await b.burst(c.toB.port, 5, 1);
      expect(await b.waitFor(5)).toBe(5); // A (caller) is not blocked
      await Bun.sleep(100);
      expect(a.got.length).toBe(0);
      await d.ng({ command: "unblock media", "call-id": c.callId, label: "callee" });
      await d.ng({ command: "block media", "call-id": c.callId, address: "127.0.0.1" }); // A's SDP address
      b.clear();
      await a.burst(c.toA.port, 5, 1);
      await b.burst(c.toB.port, 5, 1);
      expect(await a.waitFor(5)).toBe(5);
      await Bun.sleep(100);
      expect(b.got.length).toBe(0);
      // error texts as rtpengine 10.5 gives them
      expect((await d.ng({ command: "block media", "call-id": c.callId, label: "nobody" }))["error-reason"]).toBe("No monologue matching the given label");
      expect((await d.ng({ command: "block media", "call-id": c.callId, "from-tag": "X" }))["error-reason"]).toBe("From-tag given, but no such tag exists");
      expect((await d.ng({ command: "block media", "call-id": c.callId, address: "10.9.9.9" }))["error-reason"]).toBe("Failed to match address to any tag");
      expect((await d.ng({ command: "block media" }))["error-reason"]).toBe("No call-id in message");
    });

    test("silence media replaces G.722 payload with its silence pattern (0xfa)", async () => {
      const a = await phone(), b = await phone();
      const g722 = (p: { host: string; port: number }) => audioSdp(p.host, p.port).replace("RTP/AVP 0 8 101", "RTP/AVP 9 0 101");
      const c = await setupCall(d, a, b, { offer: { sdp: g722(a) }, answer: { sdp: g722(b) } });
      await d.ng({ command: "silence media", "call-id": c.callId, "from-tag": "A" });
      await a.burst(c.toA.port, 3, 1, () => a.rtp(9, 0x11));
      expect(await b.waitFor(3)).toBe(3);
      expect(b.got.every((x) => x.data.subarray(12).every((v) => v === 0xfa))).toBe(true);
    });

    test("silence media replaces G.711 payload with silence", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      await d.ng({ command: "silence media", "call-id": c.callId, "from-tag": "A" });
      await a.burst(c.toA.port, 3, 1, () => a.rtp(0, 0x11)); // PCMU
      await a.burst(c.toA.port, 3, 1, () => a.rtp(8, 0x11)); // PCMA
      expect(await b.waitFor(6)).toBe(6);
      expect(b.got.slice(0, 3).every((x) => x.data.subarray(12).every((v) => v === 0xff))).toBe(true);
      expect(b.got.slice(3).every((x) => x.data.subarray(12).every((v) => v === 0xd5))).toBe(true);
      await d.ng({ command: "unsilence media", "call-id": c.callId, "from-tag": "A" });
      b.clear();
      await a.burst(c.toA.port, 3, 1, () => a.rtp(0, 0x11));
      expect(await b.waitFor(3)).toBe(3);
      expect(b.got[0]!.data[12]).toBe(0x11);
    });

    test("media echo: backwards echoes A's media to A with a new SSRC, blackhole drops everything", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { offer: { "media echo": "backwards" } });
      await a.burst(c.toA.port, 5, 1);
      await b.burst(c.toB.port, 5, 1);
      expect(await a.waitFor(5)).toBe(5);
      await Bun.sleep(100);
      expect(a.got.length).toBe(5); // only the echo, nothing from B
      expect(b.got.length).toBe(0);
      expect(a.got[0]!.data.readUInt32BE(8)).not.toBe(a.ssrc);
      expect(a.got[0]!.from.port).toBe(c.toA.port);
      const h = await setupCall(d, a, b, { offer: { "media-echo": "blackhole" } });
      a.clear();
      await a.burst(h.toA.port, 5, 1);
      await b.burst(h.toB.port, 5, 1);
      await Bun.sleep(150);
      expect(a.got.length + b.got.length).toBe(0);
    });

    test("--tos: the receiver sees TOS 184 on relayed packets", async () => {
      const a = await phone();
      const rx = await tosReceiver();
      try {
        const c = await setupCall(d, a, { host: H, port: rx.port });
        await a.burst(c.toA.port, 3, 20);
        expect(await rx.tos).toBe(184);
      } finally {
        rx.kill();
      }
      // the `TOS` key of an offer overrides --tos for that call
      const rx2 = await tosReceiver();
      try {
        const c = await setupCall(d, a, { host: H, port: rx2.port }, { offer: { TOS: 104 } });
        await a.burst(c.toA.port, 3, 20);
        expect(await rx2.tos).toBe(104);
      } finally {
        rx2.kill();
      }
    });

    test("IPv4 <-> IPv6 bridging: each side is served from its own family's socket", async () => {
      const a = await phone(H), b = await phone("::1");
      const c = await setupCall(d, a, b, { offer: { direction: ["default", "v6"] } });
      expect(c.toB.address).toBe("::1");
      await a.burst(c.toA.port, 5, 1);
      expect(await b.waitFor(5)).toBe(5);
      await b.burst(c.toB.port, 5, 1);
      expect(await a.waitFor(5)).toBeGreaterThanOrEqual(5);
    });

    test("RTP <-> SRTP without keys from the answer: media is dropped, never leaked in the clear", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b, { offer: { "transport-protocol": "RTP/SAVP" } });
      await a.burst(c.toA.port, 5, 1);
      await b.burst(c.toB.port, 5, 1);
      await Bun.sleep(150);
      expect(a.got.length + b.got.length).toBe(0);
      expect(d.log()).toContain("media is dropped: no SRTP keys to translate with");
    });

    test("garbage datagrams neither crash the daemon nor disturb the call", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      for (const junk of [Buffer.alloc(0), Buffer.from([0x80]), Buffer.alloc(11, 0x80), Buffer.alloc(1400, 0xff)]) a.send(c.toA.port, junk);
      await Bun.sleep(50);
      b.clear();
      await a.burst(c.toA.port, 5, 1);
      expect(await b.waitFor(5)).toBe(5);
      expect((await d.ng({ command: "ping" })).result).toBe("pong");
    });

    test("delete closes the call's ports", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      expect(await portFree(H, c.toA.port)).toBe(false);
      expect(await portFree(H, c.toB.port + 1)).toBe(false);
      await a.burst(c.toA.port, 30, 1);
      expect(await b.waitFor(30)).toBe(30);
      // the delete reply carries the final counters, fast-path ones included
      const del = await d.ng({ command: "delete", "call-id": c.callId, "from-tag": "A" });
      expect((del.totals as { RTP: { packets: number } }).RTP.packets).toBe(30);
      const ways = ((await d.ng({ command: "statistics" })).statistics as { totalstatistics: { onewaystreams: number } }).totalstatistics;
      expect(ways.onewaystreams).toBeGreaterThanOrEqual(1); // only A sent
      for (const p of [c.toA.port, c.toA.port + 1, c.toB.port, c.toB.port + 1]) expect(await portFreed(H, p)).toBe(true);
    });
  });

  describe(`delayed learning and re-INVITE (${plane})`, () => {
    let d: TestDaemon;
    beforeAll(async () => {
      d = await spawnDaemon({ args: ["--port-min=44000", "--port-max=44999", "--delete-delay=0"], env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" } });
    });
    afterAll(async () => {
      await d?.stop();
    });
    const streamFlags = async (callId: string, tag: string): Promise<string[]> => {
      const q = await d.ng({ command: "query", "call-id": callId });
      return ((q.tags as Record<string, { medias: Array<{ streams: Array<{ flags: string[] }> }> }>)[tag]!.medias[0]!.streams[0]!.flags);
    };

    test("delayed: media flows at once, the endpoint is confirmed 3 s after signalling; a re-INVITE starts over", async () => {
      const a = await Phone.open(), a2 = await Phone.open(), b = await Phone.open();
      try {
        const c = await setupCall(d, a, b);
        await a.burst(c.toA.port, 3);
        await b.burst(c.toB.port, 3);
        expect(await b.waitFor(3)).toBe(3);
        expect(await a.waitFor(3)).toBe(3);
        expect(await streamFlags(c.callId, "A")).not.toContain("confirmed");
        await Bun.sleep(3200);
        await a.burst(c.toA.port, 3);
        await b.burst(c.toB.port, 3);
        expect(await b.waitFor(6)).toBe(6);
        expect(await a.waitFor(6)).toBe(6);
        expect(await streamFlags(c.callId, "A")).toContain("confirmed");
        expect(await streamFlags(c.callId, "A")).toContain("kernelized");
        const st = (await d.ng({ command: "statistics" })).statistics as { currentstatistics: Record<string, number> };
        expect(st.currentstatistics.media_kernel! > 0).toBe(fast);
        // re-INVITE: A moves to another port; B's media follows the new SDP, the old rule is gone
        const sdpA2 = audioSdp(H, a2.port);
        const sdpB = audioSdp(H, b.port);
        expect((await d.ng({ command: "offer", "call-id": c.callId, "from-tag": "A", "to-tag": "B", sdp: sdpA2 })).result).toBe("ok");
        expect((await d.ng({ command: "answer", "call-id": c.callId, "from-tag": "A", "to-tag": "B", sdp: sdpB })).result).toBe("ok");
        expect(await streamFlags(c.callId, "A")).not.toContain("kernelized");
        a.clear();
        await b.burst(c.toB.port, 5, 1);
        expect(await a2.waitFor(5)).toBe(5);
        expect(a.got.length).toBe(0);
      } finally {
        for (const p of [a, a2, b]) p.close();
      }
    }, 15000);

    test("delayed: during the wait a rule already forwards the latest source, another source still takes over; the wait's source is kept after it", async () => {
      const a = await Phone.open(), a2 = await Phone.open(), b = await Phone.open();
      try {
        const c = await setupCall(d, a, b);
        const signalled = Date.now();
        await a.burst(c.toA.port, 3);
        await b.burst(c.toB.port, 3);
        expect(await b.waitFor(3)).toBe(3);
        expect(await a.waitFor(3)).toBe(3);
        await a.burst(c.toA.port, 20, 1);
        expect(await b.waitFor(23)).toBe(23);
        expect(await streamFlags(c.callId, "A")).not.toContain("confirmed");
        const st = (await d.ng({ command: "statistics" })).statistics as { currentstatistics: Record<string, number> };
        expect(st.currentstatistics.media_kernel! > 0).toBe(fast); // the stream is on the fast path before learning ends
        // another source during the wait: the endpoint moves there (the rule sends its packets up)
        await a2.burst(c.toA.port, 3);
        expect(await b.waitFor(26)).toBe(26);
        a.clear();
        await b.burst(c.toB.port, 3);
        expect(await a2.waitFor(3)).toBe(3);
        expect(a.got.length).toBe(0);
        // after the wait: A's packets are forwarded, but the wait's source (A2) stays the endpoint
        await Bun.sleep(Math.max(0, signalled + 3300 - Date.now()));
        b.clear();
        a2.clear();
        await a.burst(c.toA.port, 3);
        expect(await b.waitFor(3)).toBe(3);
        await b.burst(c.toB.port, 3);
        expect(await a2.waitFor(3)).toBe(3);
        expect(a.got.length).toBe(0);
        expect(await streamFlags(c.callId, "A")).toContain("confirmed");
      } finally {
        for (const p of [a, a2, b]) p.close();
      }
    }, 15000);

    test("delete with a delete-delay keeps the ports until the delay expires", async () => {
      const a = await Phone.open(), b = await Phone.open();
      try {
        const c = await setupCall(d, a, b);
        await d.ng({ command: "delete", "call-id": c.callId, "from-tag": "A", "delete-delay": 1 });
        expect(await portFree(H, c.toA.port)).toBe(false);
        await Bun.sleep(1500);
        for (const p of [c.toA.port, c.toA.port + 1, c.toB.port, c.toB.port + 1]) expect(await portFreed(H, p)).toBe(true);
      } finally {
        a.close();
        b.close();
      }
    });
  });

  describe(`timeouts (${plane})`, () => {
    let d: TestDaemon;
    beforeAll(async () => {
      d = await spawnDaemon({
        args: ["--endpoint-learning=immediate", "--port-min=43000", "--port-max=43999", "--timeout=2", "--delete-delay=0"],
        env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" },
      });
    });
    afterAll(async () => {
      await d?.stop();
    });

    test("a call without media ends after --timeout and its ports close; a call with media lives", async () => {
      const a = await Phone.open(), b = await Phone.open(), a2 = await Phone.open(), b2 = await Phone.open();
      try {
        const quiet = await setupCall(d, a, b);
        const live = await setupCall(d, a2, b2);
        const end = Date.now() + 4500;
        while (Date.now() < end) {
          a2.send(live.toA.port);
          b2.send(live.toB.port);
          await Bun.sleep(100);
        }
        expect((await d.ng({ command: "query", "call-id": quiet.callId })).result).toBe("error");
        expect((await d.ng({ command: "query", "call-id": live.callId })).result).toBe("ok");
        expect(await portFreed(H, quiet.toA.port)).toBe(true);
        expect(await portFreed(H, quiet.toB.port)).toBe(true);
        const st = (await d.ng({ command: "statistics" })).statistics as { totalstatistics: { timeoutsessions: number; zerowaystreams: number } };
        expect(st.totalstatistics.timeoutsessions).toBeGreaterThanOrEqual(1);
        expect(st.totalstatistics.zerowaystreams).toBeGreaterThanOrEqual(1); // the quiet call
      } finally {
        for (const p of [a, b, a2, b2]) p.close();
      }
    }, 15000);
  });
}

describe("media ports", () => {
  let d: TestDaemon;
  beforeAll(async () => {
    // room for exactly two RTP/RTCP pairs on each address: one call
    d = await spawnDaemon({ args: ["-i", "::1", "--port-min=45000", "--port-max=45003", "--delete-delay=0"] });
  });
  afterAll(async () => {
    await d?.stop();
  });

  test("every address of an interface gets the same port; exhaustion is an error; delete frees the ports", async () => {
    const a = await Phone.open(), b = await Phone.open();
    try {
      const c = await setupCall(d, a, b);
      for (const p of [45000, 45001, 45002, 45003]) {
        expect(await portFree(H, p)).toBe(false);
        expect(await portFree("::1", p)).toBe(false);
      }
      const r = await d.ng({ command: "offer", "call-id": "second", "from-tag": "X", sdp: audioSdp(H, 4000) });
      expect(r.result).toBe("error");
      expect(r["error-reason"]).toBe("Ran out of ports");
      // the first call still relays
      await a.burst(c.toA.port, 3, 1);
      expect(await b.waitFor(3)).toBe(3);
      await d.ng({ command: "delete", "call-id": c.callId, "from-tag": "A" });
      await d.ng({ command: "delete", "call-id": "second", "from-tag": "X" });
      for (const p of [45000, 45001, 45002, 45003]) {
        expect(await portFreed(H, p)).toBe(true);
        expect(await portFreed("::1", p)).toBe(true);
      }
      const again = await setupCall(d, a, b);
      expect(again.toA.port % 2).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });
});

test("SIGTERM with a call up: the media plane stops cleanly (exit 0), ports released", async () => {
  const d = await spawnDaemon({ args: ["--port-min=45100", "--port-max=45199"] });
  const a = await Phone.open(), b = await Phone.open();
  try {
    const c = await setupCall(d, a, b);
    expect(await portFree(H, c.toA.port)).toBe(false);
    expect(await d.stop()).toBe(0);
    for (const p of [c.toA.port, c.toA.port + 1, c.toB.port, c.toB.port + 1]) expect(await portFreed(H, p)).toBe(true);
  } finally {
    a.close();
    b.close();
    await d.stop();
  }
});

test("under Deno the media plane relays too (both planes)", async () => {
  if (!existsSync(DENO)) return console.warn("skipped: deno not installed (scripts/setup-test-deps.sh puts it in .cache/deno)");
  for (const fast of [true, false]) {
    const d = await spawnDaemon({ runtime: "deno", args: ["--endpoint-learning=immediate", "--port-min=45200", "--port-max=45299"], env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" } });
    const a = await Phone.open(), b = await Phone.open();
    try {
      const c = await setupCall(d, a, b);
      await a.burst(c.toA.port, 10, 2);
      await b.burst(c.toB.port, 10, 2);
      expect(await b.waitFor(10)).toBe(10);
      expect(await a.waitFor(10)).toBe(10);
    } finally {
      a.close();
      b.close();
      await d.stop();
    }
  }
}, 60000);
