// Endpoint learning modes and call timeouts as pure decisions (no daemon): delayed, immediate, off, heuristic, strict, handover.
import { describe, expect, test } from "bun:test";
import { newMedia, newMonologue, type Call, type PeerMedia } from "../../src/call/model.ts";
import { EndpointLearner, LEARNING_WAIT_MS, type LearningOptions } from "../../src/media/learning.ts";
import type { MediaState } from "../../src/media/relay.ts";
import { callTimeout, callTimeoutDue } from "../../src/media/timeouts.ts";
import type { Endpoint } from "../../src/platform/shim-addr.ts";

const ep = (address: string, port: number): Endpoint => ({ address, port, family: 4 });
const opts = (o: Partial<LearningOptions>): LearningOptions => ({ mode: "delayed", asymmetric: false, strictSource: false, mediaHandover: false, ...o });
const SDP = ep("192.0.2.1", 4000);

describe("endpoint learning", () => {
  test("delayed: follows the latest source during the wait, then keeps it; confirmed by a later packet or by time", () => {
    const l = new EndpointLearner(opts({}));
    expect(l.onPacket(ep("198.51.100.1", 5000), SDP, 100)).toEqual({ verdict: "forward", changed: true });
    expect(l.confirmed).toBe(false);
    expect(l.provisional).toBe(true);
    l.onPacket(ep("198.51.100.2", 5002), SDP, 200);
    expect(l.endpoint).toEqual(ep("198.51.100.2", 5002));
    expect(l.confirmed).toBe(false);
    // the first packet after the wait confirms what the wait learned, even from another source (a rule may have
    // carried the learned source's packets past TypeScript, so this one can be a stray packet)
    expect(l.onPacket(ep("198.51.100.3", 5004), SDP, LEARNING_WAIT_MS + 1)).toEqual({ verdict: "forward", changed: true });
    expect(l.confirmed).toBe(true);
    expect(l.endpoint).toEqual(ep("198.51.100.2", 5002));
    // without a packet: confirmed by time, not before the wait is over
    const t = new EndpointLearner(opts({}));
    t.onPacket(ep("198.51.100.1", 5000), SDP, 100);
    expect(t.confirmIfDue(LEARNING_WAIT_MS)).toBe(false);
    expect(t.confirmIfDue(LEARNING_WAIT_MS + 1)).toBe(true);
    expect(t.confirmed).toBe(true);
    expect(t.confirmIfDue(LEARNING_WAIT_MS + 2)).toBe(false);
    expect(new EndpointLearner(opts({})).confirmIfDue(9000)).toBe(false); // nothing learned: nothing to confirm
    const l2 = new EndpointLearner(opts({}));
    l2.onPacket(ep("198.51.100.3", 5004), SDP, 0);
    l2.onPacket(ep("198.51.100.3", 5004), SDP, LEARNING_WAIT_MS + 1);
    // after confirmation other sources are forwarded but do not move it
    expect(l2.onPacket(ep("198.51.100.9", 9), SDP, 9000)).toEqual({ verdict: "forward", changed: false });
    expect(l2.endpoint).toEqual(ep("198.51.100.3", 5004));
  });

  test("immediate: the first packet confirms", () => {
    const l = new EndpointLearner(opts({ mode: "immediate" }));
    l.onPacket(ep("198.51.100.1", 5000), SDP, 0);
    expect(l.confirmed).toBe(true);
    expect(l.endpoint).toEqual(ep("198.51.100.1", 5000));
  });

  test("off and asymmetric: nothing is learned", () => {
    for (const o of [opts({ mode: "off" }), opts({ asymmetric: true })]) {
      const l = new EndpointLearner(o);
      expect(l.fixed).toBe(true);
      l.onPacket(ep("198.51.100.1", 5000), SDP, 0);
      expect(l.endpoint).toBeNull();
      expect(l.confirmed).toBe(true);
    }
  });

  test("heuristic: prefers address+port, then address, then port, then anything", () => {
    const l = new EndpointLearner(opts({ mode: "heuristic" }));
    l.onPacket(ep("198.51.100.1", 1), SDP, 0);
    expect(l.endpoint).toEqual(ep("198.51.100.1", 1));
    l.onPacket(ep("198.51.100.2", 4000), SDP, 10); // same port
    expect(l.endpoint).toEqual(ep("198.51.100.2", 4000));
    l.onPacket(ep("198.51.100.3", 7), SDP, 20); // worse: ignored
    expect(l.endpoint).toEqual(ep("198.51.100.2", 4000));
    l.onPacket(ep("192.0.2.1", 7), SDP, 30); // same address
    expect(l.endpoint).toEqual(ep("192.0.2.1", 7));
    l.onPacket(ep("192.0.2.1", 4000), SDP, 40); // exact
    expect(l.endpoint).toEqual(SDP);
    l.onPacket(ep("198.51.100.4", 1), SDP, LEARNING_WAIT_MS + 1); // confirms the best seen
    expect(l.confirmed).toBe(true);
    expect(l.endpoint).toEqual(SDP);
  });

  test("strict source drops, media handover moves, once confirmed", () => {
    const s = new EndpointLearner(opts({ mode: "immediate", strictSource: true }));
    s.onPacket(ep("198.51.100.1", 5000), SDP, 0);
    expect(s.onPacket(ep("198.51.100.1", 5001), SDP, 10).verdict).toBe("drop");
    expect(s.onPacket(ep("198.51.100.1", 5000), SDP, 10).verdict).toBe("forward");
    const h = new EndpointLearner(opts({ mode: "immediate", mediaHandover: true }));
    h.onPacket(ep("198.51.100.1", 5000), SDP, 0);
    expect(h.onPacket(ep("198.51.100.7", 6000), SDP, 10)).toEqual({ verdict: "forward", changed: true });
    expect(h.endpoint).toEqual(ep("198.51.100.7", 6000));
  });

  test("reset forgets the endpoint", () => {
    const l = new EndpointLearner(opts({ mode: "immediate" }));
    l.onPacket(ep("198.51.100.1", 5000), SDP, 0);
    l.reset();
    expect(l.endpoint).toBeNull();
    expect(l.confirmed).toBe(false);
  });
});

describe("call timeouts", () => {
  const cfg = { timeout: 60, silentTimeout: 3600, finalTimeout: 0, offerTimeout: 3600 };
  const T0 = 1_000_000_000_000;

  function call(opts: { answered: boolean; direction?: string; lastPacket?: number }): { call: Call; state: (m: unknown) => MediaState } {
    const a = newMonologue("A", null, T0), b = newMonologue("B", null, T0);
    a.peer = b;
    b.peer = a;
    const ma = newMedia(0, "audio"), mb = newMedia(0, "audio");
    ma.port = 30000;
    mb.port = 30002;
    const peer = { type: "audio", proto: "RTP/AVP", port: 4000, address: "192.0.2.1", family: 4 as const, zeroAddress: false, rtcpPort: null, rtcpMux: false, codecs: [], direction: opts.direction ?? "sendrecv", hasIce: false, iceUfrag: null, trickle: false, cryptos: [], fingerprint: null, setup: null, ptime: null, mid: null } as Partial<PeerMedia> as PeerMedia; // only what timeouts read; the model grows
    ma.peer = peer;
    if (opts.answered) mb.peer = { ...peer };
    a.medias.push(ma);
    b.medias.push(mb);
    const c: Call = { callId: "x", created: T0, lastSignal: T0, monologues: new Map([["A", a], ["B", b]]), all: [a, b], deleteTimer: null, createdFrom: null };
    const st = (): MediaState => {
      const s = { learner: null as never, sdp: null, dropped: 0, fast: { packets: 0, bytes: 0, errors: 0 }, ssrcs: [], lastSsrc: null, rule: null, ruledAt: -1, counters: { packets: 0, bytes: 0, errors: 0, lastPacket: opts.lastPacket ?? 0 } };
      return { rtp: { ...s, rtcp: false }, rtcp: { ...s, rtcp: true }, createdMs: T0 };
    };
    const states = new Map([[ma, st()], [mb, st()]]);
    return { call: c, state: (m) => states.get(m as never)! };
  }

  test("--timeout: all streams quiet longer than the timeout ends the call", () => {
    const { call: c, state } = call({ answered: true });
    expect(callTimeout(c, T0 + 59_000, cfg, state)).toBeNull();
    expect(callTimeout(c, T0 + 60_000, cfg, state)).toBe("timeout");
  });

  test("a recent packet keeps the call alive", () => {
    const { call: c, state } = call({ answered: true, lastPacket: T0 + 50_000 });
    expect(callTimeout(c, T0 + 100_000, cfg, state)).toBeNull();
    expect(callTimeout(c, T0 + 110_000, cfg, state)).toBe("timeout");
  });

  test("--silent-timeout applies to media on hold (recvonly/inactive)", () => {
    const { call: c, state } = call({ answered: true, direction: "inactive" });
    expect(callTimeout(c, T0 + 120_000, cfg, state)).toBeNull();
    expect(callTimeout(c, T0 + 3_600_000, cfg, state)).toBe("silent");
  });

  test("--final-timeout ends a call regardless of media; --offer-timeout an unanswered one", () => {
    const { call: c, state } = call({ answered: true, lastPacket: T0 + 9_000 });
    expect(callTimeout(c, T0 + 10_000, { ...cfg, finalTimeout: 10 }, state)).toBe("final");
    const u = call({ answered: false });
    expect(callTimeout(u.call, T0 + 120_000, cfg, u.state)).toBeNull(); // not judged by --timeout
    expect(callTimeout(u.call, T0 + 3_600_000, cfg, u.state)).toBe("offer");
  });

  // the plane skips a call until its due time: skipping must never hide a timeout that callTimeout would name
  test("callTimeoutDue is the first moment callTimeout names a timeout, in every case above", () => {
    const cases = [
      { c: call({ answered: true }), cfg },
      { c: call({ answered: true, lastPacket: T0 + 50_000 }), cfg },
      { c: call({ answered: true, direction: "inactive" }), cfg },
      { c: call({ answered: true, lastPacket: T0 + 9_000 }), cfg: { ...cfg, finalTimeout: 10 } },
      { c: call({ answered: false }), cfg },
      { c: call({ answered: false }), cfg: { ...cfg, offerTimeout: 0 } },
      { c: call({ answered: true }), cfg: { ...cfg, timeout: 0 } },
    ];
    for (const { c, cfg: k } of cases) {
      const due = callTimeoutDue(c.call, k, c.state);
      if (due === Infinity) {
        expect(callTimeout(c.call, T0 + 10 * 86_400_000, k, c.state)).toBeNull();
        continue;
      }
      expect(callTimeout(c.call, due - 1, k, c.state)).toBeNull();
      expect(callTimeout(c.call, due, k, c.state)).not.toBeNull();
    }
    // a packet only moves it later
    const { call: c, state } = call({ answered: true });
    const before = callTimeoutDue(c, cfg, state);
    state(c.all[0]!.medias[0]).rtp.counters.lastPacket = T0 + 30_000;
    expect(callTimeoutDue(c, cfg, state)).toBe(before + 30_000);
  });
});
