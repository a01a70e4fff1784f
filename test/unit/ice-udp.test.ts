// ICE agent over real loopback UDP sockets (node:dgram): two agents, two components each, real clock.
import { afterEach, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { addrKey, type IceAddr } from "../../src/ice/addr.ts";
import { IceAgent, type IceEvent } from "../../src/ice/agent.ts";
import { formatCandidate, parseCandidate } from "../../src/ice/candidate.ts";

/** Drives one agent with real sockets and a real timer, the way the media plane would. */
class Driver {
  readonly socks = new Map<string, dgram.Socket>();
  readonly events: IceEvent[] = [];
  readonly media: { from: IceAddr; data: Uint8Array }[] = [];
  agent!: IceAgent;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  static async open(address: string, type: "udp4" | "udp6", make: (ports: number[]) => IceAgent): Promise<Driver> {
    const d = new Driver();
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const s = dgram.createSocket(type);
      await new Promise<void>((res, rej) => { s.once("error", rej); s.bind(0, address, () => res()); });
      const local = { address, port: s.address().port };
      ports.push(local.port);
      d.socks.set(addrKey(local), s);
      s.on("message", (msg, rinfo) => {
        const from = { address: rinfo.address, port: rinfo.port };
        const r = d.agent.receive(new Uint8Array(msg), from, local, Date.now());
        if (r === "not-stun") d.media.push({ from, data: new Uint8Array(msg) });
        d.pump();
      });
    }
    d.agent = make(ports);
    return d;
  }

  /** Send what the agent wants sent, collect events, re-arm the timer at nextTimeout(). */
  pump(): void {
    if (this.closed) return;
    for (const t of this.agent.takeTransmits()) this.socks.get(addrKey(t.from))!.send(t.data, t.to.port, t.to.address);
    this.events.push(...this.agent.takeEvents());
    if (this.timer) clearTimeout(this.timer);
    const next = this.agent.nextTimeout();
    this.timer = next === null ? null : setTimeout(() => { this.agent.tick(Date.now()); this.pump(); }, Math.max(0, next - Date.now()));
  }

  send(component: number, data: Uint8Array): boolean {
    const sel = this.agent.selectedPair(component);
    if (!sel || !this.agent.isValidated(sel.remote, component)) return false;
    this.socks.get(addrKey(sel.local))!.send(data, sel.remote.port, sel.remote.address);
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
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
  a.agent.setRemote({ ...b.agent.credentials, candidates: sdp(b), lite: liteB }, Date.now());
  b.agent.setRemote({ ...a.agent.credentials, candidates: sdp(a) }, Date.now());
  a.pump(); b.pump();
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
