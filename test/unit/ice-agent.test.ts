// ICE agent: two agents over an in-memory network with a fake clock (full/full, full/lite, prflx, role conflict, loss, consent).
import { describe, expect, test } from "bun:test";
import { addrKey, type IceAddr } from "../../src/ice/addr.ts";
import { IceAgent, type IceAgentOptions, type IceEvent } from "../../src/ice/agent.ts";
import { candidatePriority, formatCandidate, pairPriority, parseCandidate } from "../../src/ice/candidate.ts";
import { StunClass, attrPriority, attrRole, attrUseCandidate, attrUsername, buildStun, parseStun } from "../../src/ice/stun.ts";

interface Packet { at: number; from: IceAddr; to: IceAddr; data: Uint8Array }

/** A deterministic datagram network: fixed latency, optional NAT rewriting, drop filter. */
class Net {
  now = 1000;
  latency = 5;
  private queue: Packet[] = [];
  private owners = new Map<string, IceAgent>();
  readonly agents: IceAgent[] = [];
  readonly events = new Map<IceAgent, IceEvent[]>();
  /** private source -> public address seen by the peer (and back) */
  nat = new Map<string, IceAddr>();
  drop: (p: Packet) => boolean = () => false;
  /** datagrams delivered, by sending agent */
  sent = new Map<IceAgent, Packet[]>();

  attach(a: IceAgent): void {
    this.agents.push(a);
    this.events.set(a, []);
    this.sent.set(a, []);
    for (const c of a.localCandidates()) this.owners.set(addrKey(c), a);
  }

  private flush(): void {
    for (const a of this.agents) {
      for (const t of a.takeTransmits()) {
        const from = this.nat.get(addrKey(t.from)) ?? t.from;
        const p: Packet = { at: this.now + this.latency, from, to: t.to, data: t.data };
        this.sent.get(a)!.push(p);
        if (!this.drop(p)) this.queue.push(p);
      }
      this.events.get(a)!.push(...a.takeEvents());
    }
  }

  /** Run until `until` (ms, absolute), delivering packets and ticking agents at their timeouts. */
  run(until: number): void {
    this.flush();
    let guard = 0;
    for (; guard < 200000; guard++) {
      let next = Infinity;
      for (const p of this.queue) next = Math.min(next, p.at);
      for (const a of this.agents) {
        const t = a.nextTimeout();
        if (t !== null) next = Math.min(next, Math.max(t, this.now));
      }
      if (next > until) break;
      this.now = next;
      const due = this.queue.filter((p) => p.at <= this.now);
      this.queue = this.queue.filter((p) => p.at > this.now);
      for (const p of due) {
        // reverse NAT: a packet to a public address goes to the private socket behind it
        let to = p.to;
        for (const [priv, pub] of this.nat) if (addrKey(pub) === addrKey(p.to)) { const [address, port] = priv.split("|"); to = { address: address!, port: Number(port) }; }
        const a = this.owners.get(addrKey(to));
        if (a) a.receive(p.data, p.from, to, this.now);
      }
      for (const a of this.agents) {
        const t = a.nextTimeout();
        if (t !== null && t <= this.now) a.tick(this.now);
      }
      this.flush();
    }
    if (guard === 200000) throw new Error("network did not settle: an agent keeps asking for ticks");
    this.now = Math.max(this.now, until);
    for (const a of this.agents) a.tick(this.now);
    this.flush();
  }

  eventsOf(a: IceAgent, type: IceEvent["type"]): IceEvent[] {
    return this.events.get(a)!.filter((e) => e.type === type);
  }
}

const FAST = { ta: 5, rto: 50, rtoMax: 200, maxRetransmits: 4, nominationDelay: 300, consentInterval: 1000, consentTimeout: 5000 };

function agent(name: string, address: string, base: number, o: Partial<IceAgentOptions> = {}): IceAgent {
  return new IceAgent({
    components: 2, local: [{ address, ports: [base, base + 1], foundation: name }],
    credentials: { ufrag: `${name}ufrag`, pwd: `${name}-password-0123456789` }, controlling: false, timing: FAST, label: name, ...o,
  });
}

/** Exchange "SDP": each side learns the other's credentials and host candidates. */
function connect(a: IceAgent, b: IceAgent, o: { aLite?: boolean; bLite?: boolean; aCands?: IceAgent["localCandidates"] } = {}): void {
  const text = (x: IceAgent) => x.localCandidates().map(formatCandidate).map((l) => parseCandidate(l)!);
  a.setRemote({ ...b.credentials, candidates: text(b), lite: o.bLite });
  b.setRemote({ ...a.credentials, candidates: o.aCands ? o.aCands() : text(a), lite: o.aLite });
}

function expectSelectedBoth(net: Net, a: IceAgent, b: IceAgent): void {
  for (const c of [1, 2]) {
    const sa = a.selectedPair(c), sb = b.selectedPair(c);
    expect(sa).not.toBeNull();
    expect(sb).not.toBeNull();
    expect(a.isValidated(sa!.remote, c)).toBe(true);
    expect(b.isValidated(sb!.remote, c)).toBe(true);
  }
  expect(net.eventsOf(a, "completed").length).toBe(1);
  expect(net.eventsOf(b, "completed").length).toBe(1);
}

describe("candidates", () => {
  test("host priorities follow rtpengine's formula and parse back", () => {
    expect(candidatePriority("host", 0, 1)).toBe(2130706431);
    expect(candidatePriority("host", 0, 2)).toBe(2130706430);
    expect(candidatePriority("host", 1, 1)).toBe(2130706175);
    const c = parseCandidate("candidate:abc 1 UDP 2130706431 2001:DB8::1 4000 typ host")!;
    expect(c.address).toBe("2001:db8::1");
    expect(parseCandidate("a=candidate:1 1 TCP 2130706431 1.2.3.4 9 typ host tcptype active")).toBeNull();
    expect(parseCandidate("candidate:1 1 UDP 99 1.2.3.4 70000 typ host")).toBeNull();
    expect(parseCandidate("candidate:1 1 UDP 99 1.2.3.4 5000 typ srflx raddr 10.0.0.1 rport 6000")!.related).toEqual({ address: "10.0.0.1", port: 6000 });
    expect(pairPriority(2, 1)).toBe((1n << 32n) + 4n + 1n);
  });
});

describe("ICE over an in-memory network", () => {
  test("full controlling vs full controlled: both components nominated and validated", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
    expect(a.selectedPair(1)).toEqual({ local: { address: "10.0.0.1", port: 4000 }, remote: { address: "10.0.0.2", port: 5000 } });
    expect(b.selectedPair(2)).toEqual({ local: { address: "10.0.0.2", port: 5001 }, remote: { address: "10.0.0.1", port: 4001 } });
    expect(b.isValidated({ address: "10.0.0.9", port: 4000 })).toBe(false);
    // the controlled side selected what the controlling side nominated
    const useCand = net.sent.get(a)!.map((p) => parseStun(p.data)).filter((r) => r.ok && r.msg.useCandidate);
    expect(useCand.length).toBeGreaterThanOrEqual(2);
    expect(net.sent.get(b)!.map((p) => parseStun(p.data)).some((r) => r.ok && r.msg.useCandidate)).toBe(false);
  });

  test("two interfaces each (IPv4 + IPv6): pairs stay within a family, rank 0 wins", () => {
    const net = new Net();
    const mk = (name: string, v4: string, v6: string, controlling: boolean) => new IceAgent({
      components: 2, local: [{ address: v4, ports: [4000, 4001], foundation: `${name}4` }, { address: v6, ports: [4000, 4001], foundation: `${name}6` }],
      credentials: { ufrag: `${name}ufrag`, pwd: `${name}-password-0123456789` }, controlling, timing: FAST,
    });
    const a = mk("A", "10.0.0.1", "fd00::1", true);
    const b = mk("B", "10.0.0.2", "FD00:0:0::2", false);
    expect(b.localCandidates().map((c) => [c.address, c.priority])).toEqual([
      ["10.0.0.2", 2130706431], ["fd00::2", 2130706175], ["10.0.0.2", 2130706430], ["fd00::2", 2130706174],
    ]);
    net.attach(a); net.attach(b);
    connect(a, b);
    expect(a.pairStates().length).toBe(4);
    expect(a.pairStates().every((p) => p.local.address.includes(":") === p.remote.address.includes(":"))).toBe(true);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
    expect(a.selectedPair(1)!.remote.address).toBe("10.0.0.2");
    expect(b.selectedPair(2)!.remote).toEqual({ address: "10.0.0.1", port: 4001 });
    // once a component is nominated its remaining lower-priority checks are not needed
    expect(b.isValidated({ address: "fd00::1", port: 4000 }, 2)).toBe(false);
  });

  test("aggressive nomination also converges", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, nomination: "aggressive" });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
  });

  test("full vs lite: lite never sends checks, nominates from USE-CANDIDATE", () => {
    const net = new Net();
    // the full side is told "controlled" but must take control against a lite peer
    const a = agent("A", "10.0.0.1", 4000, { controlling: false });
    const b = agent("B", "10.0.0.2", 5000, { lite: true });
    net.attach(a); net.attach(b);
    connect(a, b, { bLite: true });
    expect(a.isControlling).toBe(true);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
    const liteRequests = net.sent.get(b)!.map((p) => parseStun(p.data)).filter((r) => r.ok && r.msg.cls === StunClass.Request);
    expect(liteRequests.length).toBe(0);
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 }, 1)).toBe(true);
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 }, 2)).toBe(false);
  });

  test("peer-reflexive: a NATed peer is learned from its checks and selected", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "192.0.2.20", 5000);
    net.attach(a); net.attach(b);
    // A sits behind a NAT: B sees 198.51.100.7:6xxx, never A's private address
    net.nat.set("10.0.0.1|4000", { address: "198.51.100.7", port: 6000 });
    net.nat.set("10.0.0.1|4001", { address: "198.51.100.7", port: 6001 });
    net.drop = (p) => p.to.address === "10.0.0.1"; // B cannot reach A's private host candidates
    connect(a, b);
    net.run(net.now + 3000);
    expectSelectedBoth(net, a, b);
    expect(b.selectedPair(1)!.remote).toEqual({ address: "198.51.100.7", port: 6000 });
    expect(b.isValidated({ address: "198.51.100.7", port: 6001 }, 2)).toBe(true);
    const learned = net.eventsOf(b, "remote-candidate");
    expect(learned.length).toBe(2);
    expect(learned[0]!.type === "remote-candidate" && learned[0]!.candidate.type).toBe("prflx");
    // B's checks to the unreachable private candidates failed
    expect(b.pairStates().filter((p) => p.remote.address === "10.0.0.1").every((p) => p.state === "failed")).toBe(true);
  });

  test("role conflict: both controlling, the lower tie-breaker yields", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, tieBreaker: 5n });
    const b = agent("B", "10.0.0.2", 5000, { controlling: true, tieBreaker: 9n });
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 3000);
    expect(a.isControlling).toBe(false);
    expect(b.isControlling).toBe(true);
    expect(net.eventsOf(a, "role-conflict")).toEqual([{ type: "role-conflict", controlling: false }]);
    expect(net.eventsOf(b, "role-conflict").length).toBe(0);
    expectSelectedBoth(net, a, b);
  });

  test("role conflict: both controlled, the higher tie-breaker takes control", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { tieBreaker: 1n << 63n });
    const b = agent("B", "10.0.0.2", 5000, { tieBreaker: 7n });
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 3000);
    expect(a.isControlling).toBe(true);
    expect(b.isControlling).toBe(false);
    expectSelectedBoth(net, a, b);
  });

  test("a lost check is retransmitted and the pair still succeeds", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, components: 1 });
    const b = agent("B", "10.0.0.2", 5000, { components: 1 });
    net.attach(a); net.attach(b);
    let dropped = 0;
    net.drop = (p) => {
      const r = parseStun(p.data);
      // lose the first two requests A sends
      if (r.ok && r.msg.cls === StunClass.Request && p.from.address === "10.0.0.1" && dropped < 2) { dropped++; return true; }
      return false;
    };
    // B learns nothing about A, so it cannot check first: only A's retransmission can save the day
    a.setRemote({ ...b.credentials, candidates: b.localCandidates() });
    b.setRemote({ ...a.credentials, candidates: [] });
    net.run(net.now + 2000);
    expect(dropped).toBe(2);
    expect(a.counters.retransmits).toBeGreaterThanOrEqual(2);
    expect(a.selectedPair(1)).not.toBeNull();
    expect(b.selectedPair(1)).not.toBeNull();
  });

  test("a nomination lost entirely (every retransmission) is tried again and succeeds", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    let lost = 0;
    net.drop = (p) => {
      const r = parseStun(p.data);
      if (r.ok && r.msg.useCandidate && lost < 2 * (FAST.maxRetransmits + 1)) { lost++; return true; }
      return false;
    };
    connect(a, b);
    net.run(net.now + 4000);
    expect(lost).toBe(2 * (FAST.maxRetransmits + 1));
    expectSelectedBoth(net, a, b);
    // each component: one whole lost transaction, then a fresh nominating check
    const nominations = new Set(net.sent.get(a)!.map((p) => parseStun(p.data)).filter((r) => r.ok && r.msg.useCandidate).map((r) => r.ok && Buffer.from(r.msg.tid).toString("hex")));
    expect(nominations.size).toBe(4);
    expect(net.eventsOf(a, "failed").length).toBe(0);
    expect(a.pairStates().every((p) => p.state === "succeeded")).toBe(true);
  });

  test("trickle: candidates arriving after the credentials still converge", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    a.setRemote({ ...b.credentials, candidates: [], complete: false }, net.now);
    b.setRemote({ ...a.credentials, candidates: [], complete: false }, net.now);
    net.run(net.now + 500);
    expect(a.selectedPair(1)).toBeNull();
    for (const c of b.localCandidates()) a.addRemoteCandidate(parseCandidate(formatCandidate(c))!, net.now);
    a.endOfCandidates();
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
  });

  test("a check that is never answered fails the pair, and the component when candidates are complete", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, components: 1 });
    net.attach(a);
    a.setRemote({ ufrag: "x", pwd: "y", candidates: [parseCandidate("candidate:1 1 UDP 2130706431 10.9.9.9 7000 typ host")!] });
    net.run(net.now + 5000);
    expect(a.pairStates()[0]!.state).toBe("failed");
    expect(a.counters.retransmits).toBe(FAST.maxRetransmits);
    expect(net.eventsOf(a, "failed")).toEqual([{ type: "failed", component: 1 }]);
  });

  test("consent freshness: the selected pair expires when the peer goes silent", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
    // consent keeps it alive well past the timeout while the peer answers
    net.run(net.now + 3 * FAST.consentTimeout);
    expect(a.selectedPair(1)).not.toBeNull();
    expect(net.eventsOf(a, "consent-expired").length).toBe(0);
    const silentSince = net.now;
    net.drop = (p) => p.from.address === "10.0.0.2";
    net.run(net.now + FAST.consentTimeout + 2 * FAST.consentInterval);
    const exp = net.eventsOf(a, "consent-expired");
    expect(exp.length).toBe(2);
    expect(a.selectedPair(1)).toBeNull();
    expect(a.isValidated({ address: "10.0.0.2", port: 5000 })).toBe(false);
    expect(net.now - silentSince).toBeGreaterThanOrEqual(FAST.consentTimeout);
  });

  test("lite agent: validation lapses when the full peer stops checking", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000, { lite: true });
    net.attach(a); net.attach(b);
    connect(a, b, { bLite: true });
    net.run(net.now + 2000);
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 })).toBe(true);
    net.drop = (p) => p.from.address === "10.0.0.1";
    net.run(net.now + FAST.consentTimeout + 1000);
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 })).toBe(false);
    expect(b.selectedPair(1)).toBeNull();
    expect(net.eventsOf(b, "consent-expired").length).toBe(2);
  });

  test("lite agent: Binding Indications from a validated peer keep it alive, from others they validate nothing", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, components: 1 });
    const b = agent("B", "10.0.0.2", 5000, { lite: true, components: 1 });
    net.attach(a); net.attach(b);
    connect(a, b, { bLite: true });
    net.run(net.now + 2000);
    expect(b.selectedPair(1)).not.toBeNull();
    net.drop = (p) => p.from.address === "10.0.0.1"; // A's own checks stop arriving
    const ind = buildStun({ cls: StunClass.Indication, tid: new Uint8Array(12).fill(1), attrs: [] });
    const to = { address: "10.0.0.2", port: 5000 };
    for (let i = 0; i < 10; i++) {
      net.run(net.now + FAST.consentTimeout / 4);
      expect(b.receive(ind, { address: "10.0.0.1", port: 4000 }, to, net.now)).toBe("handled");
      expect(b.receive(ind, { address: "10.0.0.66", port: 4000 }, to, net.now)).toBe("handled");
    }
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 })).toBe(true);
    expect(b.isValidated({ address: "10.0.0.66", port: 4000 })).toBe(false);
    net.run(net.now + FAST.consentTimeout + 1);
    expect(b.isValidated({ address: "10.0.0.1", port: 4000 })).toBe(false);
  });

  test("ICE restart: new credentials, old pair usable until the new one is selected", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    expectSelectedBoth(net, a, b);
    a.restart({ ufrag: "A2ufrag", pwd: "A2-password-0123456789xx" });
    b.restart({ ufrag: "B2ufrag", pwd: "B2-password-0123456789xx" });
    expect(a.isValidated({ address: "10.0.0.2", port: 5000 })).toBe(true);
    connect(a, b);
    net.run(net.now + 2000);
    expect(net.eventsOf(a, "completed").length).toBe(2);
    expect(net.eventsOf(b, "completed").length).toBe(2);
    // the consent checks that follow use the new credentials
    const requests = net.sent.get(a)!.map((p) => parseStun(p.data)).filter((r) => r.ok && r.msg.cls === StunClass.Request);
    const last = requests.at(-1)!;
    expect(last.ok && last.msg.username).toBe("B2ufrag:A2ufrag");
  });

  test("ICE restart that never completes: the old pair lapses after the consent timeout", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, components: 1 });
    const b = agent("B", "10.0.0.2", 5000, { components: 1 });
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    a.restart({ ufrag: "A2ufrag", pwd: "A2-password-0123456789xx" });
    a.tick(net.now);
    net.run(net.now + FAST.consentTimeout - 100);
    expect(a.selectedPair(1)).not.toBeNull();
    net.run(net.now + 200);
    expect(a.selectedPair(1)).toBeNull();
    expect(a.isValidated({ address: "10.0.0.2", port: 5000 })).toBe(false);
    expect(net.eventsOf(a, "consent-expired").length).toBe(1);
  });

  test("the peer restarts: new remote credentials alone start the checks over", () => {
    const net = new Net();
    const a = agent("A", "10.0.0.1", 4000, { controlling: true });
    const b = agent("B", "10.0.0.2", 5000);
    net.attach(a); net.attach(b);
    connect(a, b);
    net.run(net.now + 2000);
    b.restart({ ufrag: "B2ufrag", pwd: "B2-password-0123456789xx" });
    connect(a, b);
    expect(a.pairStates().every((p) => p.state === "frozen")).toBe(true);
    expect(a.selectedPair(1)).not.toBeNull(); // the old path carries media meanwhile
    net.run(net.now + 2000);
    expect(net.eventsOf(a, "completed").length).toBe(2);
    expect(net.eventsOf(b, "completed").length).toBe(2);
  });

  test("bad credentials and garbage are rejected, counted, answered with 401/400, never thrown", () => {
    const a = agent("A", "10.0.0.1", 4000, { controlling: true, components: 1 });
    a.setRemote({ ufrag: "B", pwd: "Bpwd", candidates: [] });
    const from = { address: "10.0.0.2", port: 5000 }, to = { address: "10.0.0.1", port: 4000 };
    const tid = new Uint8Array(12).fill(7);
    const wrongUser = buildStun({ cls: StunClass.Request, tid, attrs: [attrUsername("nope:B")], integrityKey: a.credentials.pwd });
    expect(a.receive(wrongUser, from, to, 0)).toBe("rejected");
    const wrongKey = buildStun({ cls: StunClass.Request, tid, attrs: [attrUsername("Aufrag:B")], integrityKey: "wrong" });
    expect(a.receive(wrongKey, from, to, 0)).toBe("rejected");
    const noMi = buildStun({ cls: StunClass.Request, tid, attrs: [attrUsername("Aufrag:B")] });
    expect(a.receive(noMi, from, to, 0)).toBe("rejected");
    const unknownAttr = buildStun({ cls: StunClass.Request, tid, attrs: [attrUsername("Aufrag:B"), { type: 0x0042, value: new Uint8Array(4) }], integrityKey: a.credentials.pwd });
    expect(a.receive(unknownAttr, from, to, 0)).toBe("rejected");
    const unknownResp = buildStun({ cls: StunClass.Success, tid, attrs: [], integrityKey: "Bpwd" });
    expect(a.receive(unknownResp, from, to, 0)).toBe("rejected");
    expect(a.receive(new Uint8Array([0x80, 0, 0, 0]), from, to, 0)).toBe("not-stun");
    const codes = a.takeTransmits().map((t) => parseStun(t.data)).map((r) => (r.ok ? r.msg.error?.code : -1));
    expect(codes).toEqual([401, 401, 400, 420]);
    expect(a.counters.rejected).toEqual({ "bad-username": 1, "bad-integrity": 1, "missing-credentials": 1, "unknown-attributes": 1, "unmatched-response": 1 });
    expect(a.isValidated(from)).toBe(false);
    let seed = 1;
    for (let i = 0; i < 3000; i++) {
      const b = wrongKey.slice();
      seed = (seed * 48271) % 2147483647;
      b[8 + (seed % (b.length - 8))] = seed & 0xff;
      expect(() => a.receive(b, from, to, i)).not.toThrow();
    }
    expect(a.isValidated(from)).toBe(false);
  });
});

describe("which pair the controlled agent uses: the controlling agent's nomination, then the pair its media comes from", () => {
  /** A: two host addresses (10.0.0.1 ranks first, higher priority; 10.0.0.3 second), rtcp-mux. B: one. */
  function twoHomed(o: { aControlling: boolean; nomination?: "regular" | "aggressive"; bLite?: boolean }) {
    const net = new Net();
    const a = new IceAgent({
      components: 1, local: [{ address: "10.0.0.1", ports: [4000], foundation: "A1" }, { address: "10.0.0.3", ports: [4000], foundation: "A3" }],
      credentials: { ufrag: "Aufrag", pwd: "A-password-0123456789" }, controlling: o.aControlling, nomination: o.nomination, timing: FAST, label: "A",
    });
    const b = new IceAgent({
      components: 1, local: [{ address: "10.0.0.2", ports: [5000], foundation: "B" }],
      credentials: { ufrag: "Bufrag", pwd: "B-password-0123456789" }, controlling: !o.aControlling, lite: o.bLite, timing: FAST, label: "B",
    });
    net.attach(a); net.attach(b);
    connect(a, b, { bLite: o.bLite });
    net.run(net.now + 2000);
    return { net, a, b, bSock: { address: "10.0.0.2", port: 5000 }, a1: { address: "10.0.0.1", port: 4000 }, a3: { address: "10.0.0.3", port: 4000 } };
  }

  /** A (controlling) also nominates its pair from `from`, as Chromium does with every pair better than none (its own check, with USE-CANDIDATE). */
  function nominateAlso(net: Net, b: IceAgent, from: IceAddr, to: IceAddr): void {
    const attrs = [attrUsername("Bufrag:Aufrag"), attrPriority(1845501695), attrRole(true, 0xffffffffffffn), attrUseCandidate()];
    const req = buildStun({ cls: StunClass.Request, tid: new Uint8Array(12).fill(7), attrs, integrityKey: "B-password-0123456789" });
    expect(b.receive(req, from, to, net.now)).toBe("handled");
    net.run(net.now + 500); // B's triggered check on that pair succeeds: nominated
  }

  test("the controlling agent nominates one pair and sticks to it; the controlled agent selects exactly that one", () => {
    const { a, b, bSock, a1, a3 } = twoHomed({ aControlling: false }); // B controls
    expect(b.isControlling).toBe(true);
    expect(b.pairStates().filter((p) => p.nominated).length).toBe(1);
    const chosen = b.selectedPair(1)!;
    expect(a.selectedPair(1)).toEqual({ local: chosen.remote, remote: chosen.local });
    // media from A's other (validated or not) address does not move the controlling side
    for (const from of [a1, a3]) expect(b.mediaFrom(from, bSock, 1e9)).toBe(false);
    expect(b.selectedPair(1)).toEqual(chosen);
  });

  test("several nominations: the highest-priority nominated pair; media from another validated pair moves the selection", () => {
    const { net, a, b, bSock, a1, a3 } = twoHomed({ aControlling: true, nomination: "aggressive" });
    nominateAlso(net, b, a3, bSock);
    const nominated = b.pairStates().filter((p) => p.nominated && p.valid);
    expect(nominated.map((p) => p.remote.address).sort()).toEqual(["10.0.0.1", "10.0.0.3"]);
    expect(b.selectedPair(1)).toEqual({ local: bSock, remote: a1 });
    const before = net.eventsOf(b, "selected").length;
    // A sends its media from 10.0.0.3 (its choice): B follows, so B's media and a rule on the pair match A's
    expect(b.mediaFrom(a3, bSock, net.now)).toBe(true);
    expect(b.selectedPair(1)).toEqual({ local: bSock, remote: a3 });
    expect(b.takeEvents().filter((e) => e.type === "selected")).toEqual([{ type: "selected", component: 1, local: bSock, remote: a3 }]);
    expect(net.eventsOf(b, "selected").length).toBe(before);
    // a stray late packet of the old pair right after does not flip it back; from the selected pair nothing changes
    expect(b.mediaFrom(a1, bSock, net.now + 10)).toBe(false);
    expect(b.mediaFrom(a3, bSock, net.now + 10)).toBe(false);
    expect(b.selectedPair(1)!.remote).toEqual(a3);
    // never to an address no check validated (a spoofed or unknown source), and never on another socket's pair
    expect(b.mediaFrom({ address: "10.0.0.9", port: 4000 }, bSock, net.now + 5000)).toBe(false);
    expect(b.mediaFrom(a1, { address: "10.0.0.2", port: 5999 }, net.now + 5000)).toBe(false);
    expect(b.selectedPair(1)!.remote).toEqual(a3);
    // consent freshness runs on the pair now selected
    net.run(net.now + 3 * FAST.consentTimeout);
    expect(b.selectedPair(1)!.remote).toEqual(a3);
    expect(net.eventsOf(b, "consent-expired").length).toBe(0);
    // the old pair's consent is stale by now: it is checked again first, and the switch comes with the next packet after that
    expect(b.mediaFrom(a1, bSock, net.now)).toBe(false);
    const check = b.takeTransmits();
    expect(check.map((t) => t.to)).toEqual([a1]);
    expect(parseStun(check[0]!.data).ok).toBe(true);
    for (const t of check) a.receive(t.data, t.from, t.to, net.now + 5);
    for (const t of a.takeTransmits()) if (addrKey(t.to) === addrKey(bSock)) b.receive(t.data, t.from, t.to, net.now + 10);
    expect(b.mediaFrom(a1, bSock, net.now + 20)).toBe(true);
    expect(b.selectedPair(1)!.remote).toEqual(a1);
  });

  test("lite controlled agent: media from another address that checked in moves the selection too", () => {
    const { net, b, bSock, a1, a3 } = twoHomed({ aControlling: true, nomination: "aggressive", bLite: true });
    expect(b.isValidated(a1, 1) && b.isValidated(a3, 1)).toBe(true);
    const first = b.selectedPair(1)!.remote;
    const other = addrKey(first) === addrKey(a1) ? a3 : a1;
    expect(b.mediaFrom(other, bSock, net.now)).toBe(true);
    expect(b.selectedPair(1)!.remote).toEqual(other);
    expect(b.mediaFrom({ address: "10.0.0.9", port: 4000 }, bSock, net.now + 5000)).toBe(false);
  });
});
