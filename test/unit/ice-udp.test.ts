// ICE agent and IceRunner over real loopback UDP sockets (node:dgram): two agents, two components each, real clock.
import { afterEach, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { addrKey, type IceAddr } from "../../src/ice/addr.ts";
import { IceAgent, type IceEvent } from "../../src/ice/agent.ts";
import { formatCandidate, parseCandidate } from "../../src/ice/candidate.ts";
import { IceRunner } from "../../src/ice/runner.ts";

/** One stream's sockets with an IceRunner on top, the way the media plane would use it. */
class Driver {
  readonly socks = new Map<string, dgram.Socket>();
  readonly events: IceEvent[] = [];
  readonly media: { from: IceAddr; data: Uint8Array }[] = [];
  run!: IceRunner;

  get agent(): IceAgent {
    return this.run.agent;
  }

  static async open(address: string, type: "udp4" | "udp6", make: (ports: number[]) => IceAgent): Promise<Driver> {
    const d = new Driver();
    const ports: number[] = [];
    const locals: IceAddr[] = [];
    for (let i = 0; i < 2; i++) {
      const s = dgram.createSocket(type);
      await new Promise<void>((res, rej) => { s.once("error", rej); s.bind(0, address, () => res()); });
      const local = { address, port: s.address().port };
      ports.push(local.port);
      locals.push(local);
      d.socks.set(addrKey(local), s);
    }
    d.run = new IceRunner(make(ports), {
      send: (t) => d.socks.get(addrKey(t.from))!.send(t.data, t.to.port, t.to.address),
      onEvent: (e) => d.events.push(e),
    });
    locals.forEach((local) => {
      d.socks.get(addrKey(local))!.on("message", (msg, rinfo) => {
        const from = { address: rinfo.address, port: rinfo.port };
        if (d.run.receive(new Uint8Array(msg), from, local) === "not-stun") d.media.push({ from, data: new Uint8Array(msg) });
      });
    });
    return d;
  }

  send(component: number, data: Uint8Array): boolean {
    const sel = this.agent.selectedPair(component);
    if (!sel || !this.agent.isValidated(sel.remote, component)) return false;
    this.socks.get(addrKey(sel.local))!.send(data, sel.remote.port, sel.remote.address);
    return true;
  }

  close(): void {
    this.run.close();
    for (const s of this.socks.values()) s.close();
  }
}

const open: Driver[] = [];
afterEach(() => { while (open.length) open.pop()!.close(); });

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

async function pairOverUdp(type: "udp4" | "udp6", addrA: string, addrB: string, liteB: boolean): Promise<void> {
  const timing = { ta: 10, rto: 100, rtoMax: 400, nominationDelay: 200 };
  const a = await Driver.open(addrA, type, (ports) => new IceAgent({
    components: 2, local: [{ address: addrA, ports }], credentials: { ufrag: "aaaa1111", pwd: "apassword-apassword-apass" },
    controlling: true, timing, label: "A",
  }));
  open.push(a);
  const b = await Driver.open(addrB, type, (ports) => new IceAgent({
    components: 2, local: [{ address: addrB, ports }], credentials: { ufrag: "bbbb2222", pwd: "bpassword-bpassword-bpass" },
    controlling: false, lite: liteB, timing, label: "B",
  }));
  open.push(b);
  // the SDP exchange, through the a=candidate text form
  const sdp = (d: Driver) => d.agent.localCandidates().map((c) => parseCandidate(formatCandidate(c))!);
  a.run.update((x) => x.setRemote({ ...b.agent.credentials, candidates: sdp(b), lite: liteB }));
  b.run.update((x) => x.setRemote({ ...a.agent.credentials, candidates: sdp(a) }));
  const done = await until(() => a.events.some((e) => e.type === "completed") && b.events.some((e) => e.type === "completed"), 4000);
  expect(done).toBe(true);
  for (const c of [1, 2]) {
    const sa = a.agent.selectedPair(c)!, sb = b.agent.selectedPair(c)!;
    expect(sa.remote).toEqual(sb.local);
    expect(sb.remote).toEqual(sa.local);
  }
  // media flows on the selected pair and is handed back as "not-stun"
  expect(a.send(1, Uint8Array.of(0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1))).toBe(true);
  expect(await until(() => b.media.length === 1, 1000)).toBe(true);
  expect(b.media[0]!.from).toEqual(a.agent.selectedPair(1)!.local);
}

describe("ICE over loopback UDP", () => {
  test("a peer with the wrong password is never validated", async () => {
    const mk = (addr: string, ufrag: string, controlling: boolean) => (ports: number[]) => new IceAgent({
      components: 2, local: [{ address: addr, ports }], credentials: { ufrag, pwd: `${ufrag}-password-0123456789` }, controlling,
      timing: { ta: 10, rto: 50, rtoMax: 100, maxRetransmits: 3 },
    });
    const a = await Driver.open("127.0.0.1", "udp4", mk("127.0.0.1", "aaaa", true));
    open.push(a);
    const b = await Driver.open("127.0.0.2", "udp4", mk("127.0.0.2", "bbbb", false));
    open.push(b);
    a.run.update((x) => x.setRemote({ ufrag: "bbbb", pwd: "not-the-password", candidates: b.agent.localCandidates() }));
    b.run.update((x) => x.setRemote({ ...a.agent.credentials, candidates: a.agent.localCandidates() }));
    await until(() => a.events.filter((e) => e.type === "failed").length === 2, 3000);
    expect(a.events.filter((e) => e.type === "failed").length).toBe(2);
    expect(a.events.some((e) => e.type === "validated" || e.type === "selected")).toBe(false);
    expect(b.events.some((e) => e.type === "selected")).toBe(false);
    expect(a.send(1, new Uint8Array(12))).toBe(false);
    expect(b.agent.counters.rejected["bad-integrity"]).toBeGreaterThan(0);
  });

  test("full controlling vs full controlled, IPv4", async () => {
    await pairOverUdp("udp4", "127.0.0.1", "127.0.0.2", false);
  });

  test("full vs lite, IPv4", async () => {
    await pairOverUdp("udp4", "127.0.0.1", "127.0.0.1", true);
  });

  test("full vs full, IPv6 ::1 (skipped when the host has no IPv6 loopback)", async () => {
    const probe = dgram.createSocket("udp6");
    const ok = await new Promise<boolean>((res) => { probe.once("error", () => res(false)); probe.bind(0, "::1", () => res(true)); });
    probe.close();
    if (!ok) return;
    await pairOverUdp("udp6", "::1", "::1", false);
  });
});
