// --table without xt_RTPENGINE: userspace forwarding, said in the log; --no-fallback refuses to start; the /proc protocol against a stand-in directory.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeBlist, KERNEL_HDR_SIZE } from "../../src/kernel/rule-kernel.ts";
import { decodeAddr, encodeAddr } from "../../src/platform/shim-addr.ts";
import { daemonCommand, REPO, spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { Phone, setupCall } from "./media-helpers.ts";

const H = "127.0.0.1";
const work = mkdtempSync(join(tmpdir(), "kernel-fallback-"));
const phones: Phone[] = [];
const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const p of phones) p.close();
  for (const d of daemons) await d.stop().catch(() => 0);
  rmSync(work, { recursive: true, force: true });
});

async function phone(): Promise<Phone> {
  const p = await Phone.open(H);
  phones.push(p);
  return p;
}

async function daemon(args: string[], env: Record<string, string>): Promise<TestDaemon> {
  const d = await spawnDaemon({ args: ["--endpoint-learning=immediate", "--delete-delay=0", ...args], env });
  daemons.push(d);
  return d;
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

type Streams = Record<string, { medias: Array<{ streams: Array<{ stats: { packets: number }; flags: string[] }> }> }>;
const rtpStream = (q: Record<string, unknown>, tag: string) => (q.tags as Streams)[tag]!.medias[0]!.streams[0]!;

/** RTP both ways: 5 packets each (learning), then 100 each; every packet must arrive. */
async function talk(a: Phone, b: Phone, c: Awaited<ReturnType<typeof setupCall>>, n = 100): Promise<void> {
  await a.burst(c.toA.port, 5);
  await b.burst(c.toB.port, 5);
  expect(await b.waitFor(5)).toBe(5);
  expect(await a.waitFor(5)).toBe(5);
  a.clear();
  b.clear();
  await a.burst(c.toA.port, n, 1);
  await b.burst(c.toB.port, n, 1);
  expect(await b.waitFor(n)).toBe(n);
  expect(await a.waitFor(n)).toBe(n);
}

describe("--table without the kernel module", () => {
  test("falls back to userspace forwarding and says so", async () => {
    const d = await daemon(["--table=0", "--port-min=44000", "--port-max=44499"], { RTPENGINE_TS_PROC_RTPENGINE: join(work, "absent") });
    expect(d.log()).toMatch(/FAILED TO CREATE KERNEL TABLE 0 \(xt_RTPENGINE is not loaded[^)]*\), KERNEL FORWARDING DISABLED: falling back to userspace forwarding/);
    expect(d.log()).toContain("fast path on (userspace)");
    const a = await phone(), b = await phone();
    const c = await setupCall(d, a, b);
    await talk(a, b, c);
    const q = await d.ng({ command: "query", "call-id": c.callId });
    expect(rtpStream(q, "A").stats.packets).toBe(105);
    expect(rtpStream(q, "B").stats.packets).toBe(105);
    expect(await d.stop()).toBe(0);
  }, 20_000);

  test("--no-fallback: exit 1 with one line", async () => {
    const p = Bun.spawn([...daemonCommand("bun"), "--config-file=none", "--foreground", "--log-stderr", "-i", H, "--listen-ng=127.0.0.1:0", "--table=0", "--no-fallback"], {
      cwd: REPO, env: { ...process.env, RTPENGINE_TS_PROC_RTPENGINE: join(work, "absent") }, stdout: "pipe", stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill(), 10_000);
    const code = await p.exited;
    clearTimeout(timer);
    const err = (await new Response(p.stderr).text()).trim();
    expect(code).toBe(1);
    expect(err.split("\n")).toEqual(["rtpengine: kernel forwarding table 0 unavailable (xt_RTPENGINE is not loaded: no " + join(work, "absent") + "/control) and --no-fallback given: exiting"]);
  }, 15_000);

  test("--table=-1 --no-fallback: userspace by choice, starts", async () => {
    const d = await daemon(["--table=-1", "--no-fallback", "--port-min=44500", "--port-max=44599"], {});
    expect(d.log()).toContain("Kernel forwarding disabled (--table=-1)");
    expect(await d.stop()).toBe(0);
  }, 15_000);
});

interface Msg {
  cmd: number;
  local: { address: string; port: number } | null;
  outSrc: { address: string; port: number } | null;
  outDst: { address: string; port: number } | null;
  flags: number;
}

/** The messages the daemon wrote to the stand-in N/control (a plain file: writes append). */
function messages(path: string): Msg[] {
  const b = new Uint8Array(readFileSync(path));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Msg[] = [];
  for (let o = 0; o + KERNEL_HDR_SIZE <= b.byteLength; ) {
    expect(dv.getUint32(o, true)).toBe(0x45505452);
    const cmd = dv.getUint16(o + 6, true), len = dv.getUint32(o + 8, true);
    const r = o + KERNEL_HDR_SIZE;
    out.push(cmd === 4 ? { cmd, local: null, outSrc: null, outDst: null, flags: 0 } : {
      cmd,
      local: decodeAddr(b, r),
      outSrc: cmd <= 2 ? decodeAddr(b, r + 144) : null,
      outDst: cmd <= 2 ? decodeAddr(b, r + 164) : null,
      flags: cmd <= 2 ? dv.getUint32(r + 40, true) : 0,
    });
    o += len;
  }
  return out;
}

/** A blist as the module would produce it: one record per local port with `packets` forwarded. */
function blist(entries: Array<{ port: number; packets: number }>): Uint8Array {
  const b = new Uint8Array(568 * entries.length);
  const dv = new DataView(b.buffer);
  entries.forEach((e, i) => {
    encodeAddr(b, i * 568, H, e.port);
    dv.setBigUint64(i * 568 + 360, BigInt(e.packets), true);
    dv.setBigUint64(i * 568 + 368, BigInt(e.packets * 172), true);
    dv.setBigUint64(i * 568 + 400, BigInt(Date.now()), true);
  });
  expect(decodeBlist(b).length).toBe(entries.length);
  return b;
}

// The host cannot load xt_RTPENGINE; a directory of plain files stands in for /proc/rtpengine so the
// daemon's side of the protocol (table add/del, rule messages, blist counters, lost rules) is checked here.
// test/kernel/daemon-e2e.sh runs the same daemon against the real module in a VM.
describe("--table with a stand-in /proc/rtpengine", () => {
  const root = join(work, "proc");
  const ctl = join(root, "0", "control");
  const bl = join(root, "0", "blist");
  let d: TestDaemon;

  test("table created, rules pushed on learning, counters from blist, deleted with the call", async () => {
    mkdirSync(join(root, "0"), { recursive: true });
    writeFileSync(join(root, "control"), "");
    writeFileSync(ctl, "");
    writeFileSync(bl, "");
    d = await daemon(["--table=0", "--port-min=44600", "--port-max=44999", "--tos=184"], { RTPENGINE_TS_PROC_RTPENGINE: root });
    expect(d.log()).toContain(`Kernel forwarding table 0 created, ${root}/0/control held`);
    expect(d.log()).toContain("fast path kernel table 0");
    expect(readFileSync(join(root, "control"), "utf8")).toBe("add 0\n"); // after "del 0" (each command is its own open/write)
    const a = await phone(), b = await phone();
    const c = await setupCall(d, a, b);
    // what the module would report once the rules are in
    writeFileSync(bl, blist([{ port: c.toA.port, packets: 1000 }, { port: c.toB.port, packets: 2000 }]));
    await talk(a, b, c, 10); // the stand-in forwards nothing: the slow path still sees (and relays) every packet
    await until("two rule messages", () => messages(ctl).length >= 2);
    const adds = messages(ctl);
    expect(adds.map((m) => m.cmd)).toEqual([1, 1]);
    const toB = adds.find((m) => m.local?.port === c.toA.port)!; // A's packets arrive on the port in the answer
    const toA = adds.find((m) => m.local?.port === c.toB.port)!;
    expect(toB.outDst).toMatchObject({ address: H, port: b.port });
    expect(toB.outSrc).toMatchObject({ address: H, port: c.toB.port });
    expect(toA.outDst).toMatchObject({ address: H, port: a.port });
    expect(toA.outSrc).toMatchObject({ address: H, port: c.toA.port });
    expect(toB.flags & 0x2).toBe(0x2); // RTP
    const raw = new Uint8Array(readFileSync(ctl));
    expect(raw[16 + 184]).toBe(184); // --tos goes into out.tos

    const q = await d.ng({ command: "query", "call-id": c.callId });
    expect(rtpStream(q, "A").stats.packets).toBe(15 + 1000);
    expect(rtpStream(q, "B").stats.packets).toBe(15 + 2000);
    expect(rtpStream(q, "A").flags).toContain("kernelized");
    const st = (await d.ng({ command: "statistics" })).statistics as { totalstatistics: Record<string, number> };
    expect(st.totalstatistics.relayedpackets_kernel).toBe(3000);

    await d.ng({ command: "delete", "call-id": c.callId });
    await until("two delete messages", () => messages(ctl).length >= 4);
    const dels = messages(ctl).slice(2);
    expect(dels.map((m) => m.cmd)).toEqual([3, 3]);
    expect(dels.map((m) => m.local!.port).sort()).toEqual([c.toA.port, c.toB.port].sort());
  }, 20_000);

  test("a rule that vanishes from the kernel moves to userspace at once, logged", async () => {
    writeFileSync(bl, ""); // the module lost every rule (e.g. the table was flushed)
    const before = messages(ctl).length;
    const a = await phone(), b = await phone();
    const c = await setupCall(d, a, b);
    await talk(a, b, c, 10);
    await until("two more rule messages", () => messages(ctl).length >= before + 2);
    // the next blist read (a query or the 1 s tick) finds them missing
    await d.ng({ command: "query", "call-id": c.callId });
    await until("the fallback log lines", () => (d.log().match(/vanished from table 0: forwarding in userspace/g) ?? []).length >= 2);
    // now the userspace fast path carries it
    a.clear();
    b.clear();
    await a.burst(c.toA.port, 50, 1);
    await b.burst(c.toB.port, 50, 1);
    expect(await b.waitFor(50)).toBe(50);
    expect(await a.waitFor(50)).toBe(50);
    await Bun.sleep(1100);
    const q = await d.ng({ command: "query", "call-id": c.callId });
    expect(rtpStream(q, "A").stats.packets).toBe(65);
    expect(rtpStream(q, "A").flags).toContain("kernelized");
  }, 20_000);

  test("shutdown deletes the table", async () => {
    expect(await d.stop()).toBe(0);
    expect(readFileSync(join(root, "control"), "utf8")).toBe("del 0\n");
    expect(d.log()).toContain("Kernel forwarding table 0 deleted");
    expect(existsSync(ctl)).toBe(true);
  }, 15_000);
});

describe("--table with a kernel that refuses every rule", () => {
  test("each refused rule is forwarded in userspace at once, logged", async () => {
    const root = join(work, "full");
    mkdirSync(join(root, "0"), { recursive: true });
    writeFileSync(join(root, "control"), "");
    writeFileSync(join(root, "0", "blist"), "");
    symlinkSync("/dev/full", join(root, "0", "control")); // every write: ENOSPC, as a full table would answer
    const d = await daemon(["--table=0", "--port-min=45000", "--port-max=45499"], { RTPENGINE_TS_PROC_RTPENGINE: root });
    expect(d.log()).toContain("Kernel forwarding table 0 created");
    const a = await phone(), b = await phone();
    const c = await setupCall(d, a, b);
    await talk(a, b, c);
    await until("two fallback lines", () => (d.log().match(/Kernel rule 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ not installed \(.*ENOSPC.*\): forwarding in userspace/g) ?? []).length === 2);
    await Bun.sleep(1100); // the userspace fast path's counters are read once a second
    const q = await d.ng({ command: "query", "call-id": c.callId });
    expect(rtpStream(q, "A").stats.packets).toBe(105);
    expect(rtpStream(q, "A").flags).toContain("kernelized"); // the shim's fast path took the rule
    const st = (await d.ng({ command: "statistics" })).statistics as { totalstatistics: Record<string, number> };
    expect(st.totalstatistics.relayedpackets_kernel).toBeGreaterThan(0);
    expect(await d.stop()).toBe(0);
  }, 20_000);
});
