// Hostile ng input: fuzzed bencode, mutated/huge SDP, unknown commands; the daemon must answer errors and survive.
//
// Daemon: `bun src/main.ts` (override with HOSTILE_DAEMON="/usr/bin/rtpengine --table=-1" to
// check the suite against the reference). Seed: HOSTILE_SEED (printed on every run);
// HOSTILE_KEEP_LOGS=1 keeps the daemon log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { createSocket } from "node:dgram";
import { bdecode, bencode, NgClient, waitForPing, type NgDict } from "../conformance/ng-client.ts";
import { REPO, startDaemon, type Daemon } from "../conformance/daemon.ts";
import { missing } from "../helpers/requires.ts";

const DAEMON = process.env.HOSTILE_DAEMON ?? "bun src/main.ts";
const FROM_SOURCE = DAEMON === "bun src/main.ts";
const MAIN_MISSING = missing(FROM_SOURCE && !existsSync(join(REPO, "src/main.ts")), "hostile: src/main.ts does not exist (nothing to start)");

const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 1_000_000);
console.log(`hostile: daemon '${DAEMON}', seed ${SEED} (HOSTILE_SEED=${SEED} to repeat)`);

/** mulberry32: small seeded PRNG so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const GOOD_SDP = (port: number) =>
  `v=0\r\no=- 1545997027 1 IN IP4 127.0.0.1\r\ns=tester\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8 101\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n`;

async function freeUdpPort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 9000);
    const ok = await new Promise<boolean>((res) => {
      const s = createSocket("udp4");
      s.once("error", () => (s.close(), res(false)));
      s.bind(port, "127.0.0.1", () => (s.close(), res(true)));
    });
    if (ok) return port;
  }
}

let daemon: Daemon | null = null;
let client: NgClient;
let logPath = "";
let ngPort = 0;
let callSeq = 0;
const newCallId = () => `hostile-${SEED}-${++callSeq}`;

/** Raw body after a cookie; decoded reply dict, or null when none came within the timeout. */
async function sendRaw(body: Uint8Array | string, timeoutMs = 3000): Promise<NgDict | null> {
  const r = await client.raw(typeof body === "string" ? Buffer.from(body, "latin1") : body, timeoutMs);
  if (!r) return null;
  const text = Buffer.from(r).toString("utf8").trimStart();
  const v = text.startsWith("{") ? JSON.parse(text) : bdecode(r);
  return v as NgDict;
}

function expectError(reply: NgDict | null, what: string): void {
  expect(reply, `${what}: no reply`).not.toBeNull();
  expect(reply!.result, `${what}: result`).toBe("error");
  expect(typeof reply!["error-reason"], `${what}: error-reason`).toBe("string");
}

const offer = (callId: string, sdp: string, extra: NgDict = {}): NgDict => ({ command: "offer", "call-id": callId, "from-tag": "ft-" + callId, sdp, ...extra });

describe.skipIf(MAIN_MISSING)("hostile ng input", () => {
  let preCall = "";
  let offerSupported = false;
  let offerWhy = "";

  beforeAll(async () => {
    const port = (ngPort = await freeUdpPort());
    logPath = join(mkdtempSync(join(tmpdir(), "hostile-")), "daemon.log");
    const args = ["--config-file=none", "-i", "127.0.0.1", "-n", `127.0.0.1:${port}`, "-f", "-E"];
    daemon = startDaemon(DAEMON, args, logPath);
    process.on("exit", () => daemon?.proc.kill("SIGKILL"));
    client = await NgClient.open({ host: "127.0.0.1", port, timeoutMs: 3000 });
    const up = await waitForPing(client, 30_000, daemon.alive);
    if (!up) throw new Error(`daemon did not answer ping on 127.0.0.1:${port}; log ${logPath}:\n${daemon.logTail()}`);
    // A call set up before the barrage: it must still be answerable afterwards.
    preCall = newCallId();
    const r = await client.request(offer(preCall, GOOD_SDP(6000)));
    offerSupported = r.result === "ok";
    offerWhy = offerSupported ? "" : `offer answered '${String(r.result)}': ${String(r["error-reason"] ?? "")}`;
    if (!offerSupported) console.warn(`hostile: offer/answer assertions GATED OFF, the daemon does not support offer yet (${offerWhy})`);
  }, 40_000);

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    if (process.env.HOSTILE_KEEP_LOGS) console.log(`hostile: daemon log ${logPath}`);
    else if (logPath) rmSync(dirname(logPath), { recursive: true, force: true });
  });

  test("malformed bencode gets an error reply", async () => {
    const cases: [string, string][] = [
      ["empty body", ""],
      ["whitespace body", "   "],
      ["not a dict", "li1ei2ee"],
      ["truncated dict", "d7:command4:pi"],
      ["negative string length", "d7:command-5:offere"],
      ["string length past end", "d7:command99999999:offere"],
      ["huge integer", "d7:commandi99999999999999999999999999999ee"],
      ["non-string key", "di1e4:pinge"],
      ["no command key", "d3:foo3:bare"],
      ["command not a string", "d7:commandi5ee"],
      ["command is a list", "d7:commandl4:pingee"],
      ["deep nesting", "d7:command5:offer4:deep" + "l".repeat(20000) + "e".repeat(20000) + "e"],
      ["binary junk", "\x00\xff\xfe\x01d\x00"],
      ["invalid JSON", '{"command": "ping"'],
      ["JSON array", '["ping"]'],
      ["JSON command not a string", '{"command": 5}'],
    ];
    for (let i = 0; i < 40; i++) {
      // random bytes, sometimes with a plausible bencode prefix
      const n = 1 + Math.floor(rnd() * 200);
      let s = pick(["", "d", "d7:command", "d7:command5:offer"]);
      for (let j = 0; j < n; j++) s += String.fromCharCode(Math.floor(rnd() * 256));
      if (/^d7:command4:ping/.test(s)) continue;
      cases.push([`random bytes #${i}`, s]);
    }
    for (const [what, body] of cases) {
      const reply = await sendRaw(body);
      // random bytes can form a valid dict by chance; anything that is not a ping must not succeed
      if (what.startsWith("random") && reply && reply.result !== "error") throw new Error(`${what}: unexpected result ${String(reply.result)} for ${JSON.stringify(body)}`);
      expectError(reply, `${what} ${JSON.stringify(body.slice(0, 60))}`);
    }
    // rtpengine 10.5 parses only up to the end of the first value: tolerate either an error or a pong
    for (const body of ["d7:command4:ping", "d7:command4:pinge GARBAGE"]) {
      const r = await sendRaw(body);
      expect(r, `lenient case ${body}: no reply`).not.toBeNull();
      expect(["error", "pong"]).toContain(r!.result as string);
    }
    expect(daemon!.alive()).toBe(true);
  }, 60_000);

  test("a datagram without a cookie is dropped without a reply", async () => {
    const before = statSync(logPath).size;
    const got: Buffer[] = [];
    const sock = createSocket("udp4");
    sock.on("message", (m) => got.push(m));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    for (const m of ["nocookie", "", " d7:command4:pinge", "\x00"]) sock.send(Buffer.from(m, "latin1"), ngPort, "127.0.0.1");
    await Bun.sleep(500);
    sock.close();
    expect(got.map((b) => b.toString("latin1"))).toEqual([]);
    expect(daemon!.alive()).toBe(true);
    // dropped, but not silently: the operator must be able to see it
    expect(statSync(logPath).size, "dropping cookie-less datagrams left no line in the log").toBeGreaterThan(before);
  }, 10_000);

  test("unknown and malformed commands get an error reply", async () => {
    for (const command of ["frobnicate", "OFFER ", "", "x".repeat(1000), "offer\x00", "ping\n"]) {
      expectError(await sendRaw(bencode({ command, "call-id": newCallId() })), `command ${JSON.stringify(command.slice(0, 20))}`);
    }
    // well-known commands missing what they need
    expectError(await sendRaw(bencode({ command: "offer", sdp: GOOD_SDP(6002), "from-tag": "a" })), "offer without call-id");
    expectError(await sendRaw(bencode({ command: "offer", "call-id": newCallId(), "from-tag": "a" })), "offer without sdp");
    expectError(await sendRaw(bencode({ command: "answer", "call-id": newCallId(), "from-tag": "a", "to-tag": "b", sdp: GOOD_SDP(6004) })), "answer for an unknown call");
    // rtpengine 10.5 answers ok (with a warning) to deleting an unknown call: only require a reply
    expect(await sendRaw(bencode({ command: "delete", "call-id": newCallId(), "from-tag": "a" })), "delete of an unknown call").not.toBeNull();
    expectError(await sendRaw(bencode({ command: "offer", "call-id": newCallId(), "from-tag": "a", sdp: 12345 })), "sdp as an integer");
    expectError(await sendRaw(bencode({ command: "offer", "call-id": newCallId(), "from-tag": "a", sdp: "this is not SDP" })), "offer with garbage sdp");
  }, 30_000);

  test("random SDP mutations get ok or error, never silence", async () => {
    const base = GOOD_SDP(6006);
    const junk = ["\x00", "\xff", "=", " ", "\r\n", "m=", "c=IN IP4 ", "a=rtpmap:", "99999999999", "-1", "IN IP6 ::1", "a=candidate:1 1 UDP", "\t"];
    for (let i = 0; i < 60; i++) {
      let s = base;
      const ops = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < ops; k++) {
        const at = Math.floor(rnd() * s.length);
        switch (Math.floor(rnd() * 5)) {
          case 0: s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 10)); break; // delete
          case 1: s = s.slice(0, at) + pick(junk) + s.slice(at); break; // insert
          case 2: s = s.slice(0, at); break; // truncate
          case 3: { const lines = s.split("\r\n"); const l = pick(lines); s = lines.concat(Array(1 + Math.floor(rnd() * 5)).fill(l)).join("\r\n"); break; } // duplicate a line
          default: s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at + 1); // flip a byte
        }
      }
      const reply = await sendRaw(bencode(offer(newCallId(), s)), 5000);
      expect(reply, `mutation #${i}: no reply for ${JSON.stringify(s)}`).not.toBeNull();
      expect(["ok", "error"], `mutation #${i}: result for ${JSON.stringify(s)}`).toContain(reply!.result as string);
    }
    expect(daemon!.alive()).toBe(true);
  }, 60_000);

  test("well-formed bencode with wrongly typed values gets ok or error", async () => {
    const keys = ["call-id", "from-tag", "to-tag", "sdp", "flags", "replace", "direction", "codec", "ICE", "DTLS", "SDES", "rtcp-mux", "transport-protocol", "address-family", "media-address", "ptime", "T.38", "received-from", "label", "via-branch"];
    const junk = (depth: number): NgDict[string] => {
      const k = Math.floor(rnd() * (depth > 2 ? 3 : 6));
      if (k === 0) return Math.floor(rnd() * 2 ** 31) * (rnd() < 0.5 ? -1 : 1);
      if (k === 1) return pick(["", "all", "force", "x".repeat(300), "\u00ff\u0000", "IP6", "strip", "-1"]);
      if (k === 2) return new Uint8Array(Array.from({ length: Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 256)));
      if (k === 3) return Array.from({ length: Math.floor(rnd() * 4) }, () => junk(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [pick(["strip", "mask", "transcode", "offer", "accept", "x"]), junk(depth + 1)]));
    };
    for (let i = 0; i < 80; i++) {
      const req: NgDict = offer(newCallId(), GOOD_SDP(6030));
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) req[pick(keys)] = junk(0);
      req.command = pick(["offer", "answer", "delete", "query", "list", "block media", "start recording", "play DTMF"]);
      const reply = await sendRaw(bencode(req), 5000);
      expect(reply, `typed fuzz #${i}: no reply to ${JSON.stringify(req, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 400)}`).not.toBeNull();
      expect(["ok", "error"], `typed fuzz #${i}: result`).toContain(reply!.result as string);
    }
    expect(daemon!.alive()).toBe(true);
  }, 60_000);

  test("huge SDP (one 60 kB attribute) gets a reply", async () => {
    const sdp = GOOD_SDP(6008) + `a=x-huge:${"A".repeat(60_000)}\r\n`;
    const reply = await sendRaw(bencode(offer(newCallId(), sdp)), 10_000);
    expect(reply).not.toBeNull();
    expect(["ok", "error"]).toContain(reply!.result as string);
  }, 20_000);

  test("thousands of m= lines get a reply in bounded time", async () => {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
    for (let i = 0; i < 2500; i++) sdp += `m=audio ${10000 + 2 * i} RTP/AVP 0\r\n`;
    const t0 = Date.now();
    const reply = await sendRaw(bencode(offer(newCallId(), sdp)), 20_000);
    expect(reply, "no reply to a 2500-stream offer").not.toBeNull();
    expect(["ok", "error"]).toContain(reply!.result as string);
    console.log(`hostile: 2500 m= lines -> '${String(reply!.result)}' in ${Date.now() - t0} ms`);
  }, 30_000);

  test("afterwards the daemon still answers ping", async () => {
    expect(daemon!.alive()).toBe(true);
    const r = await client.request({ command: "ping" });
    expect(r.result).toBe("pong");
  }, 10_000);

  test("afterwards calls are unaffected (offer/answer; gated on offer support)", async () => {
    if (!offerSupported) {
      console.warn(`hostile: SKIPPED offer/answer assertions: ${offerWhy}`);
      return;
    }
    const ans = await client.request({ command: "answer", "call-id": preCall, "from-tag": "ft-" + preCall, "to-tag": "tt", sdp: GOOD_SDP(6010) });
    expect(ans.result, `answer for the call set up before the barrage: ${String(ans["error-reason"] ?? "")}`).toBe("ok");
    const id = newCallId();
    const r = await client.request(offer(id, GOOD_SDP(6012)));
    expect(r.result, String(r["error-reason"] ?? "")).toBe("ok");
    expect(String(r.sdp)).toMatch(/\r\nc=IN IP4 127\.0\.0\.1\r\n/);
    expect(String(r.sdp)).toMatch(/\r\nm=audio \d+ RTP\/AVP 0 8 101\r\n/);
    expect(String(r.sdp)).not.toContain("m=audio 6012 ");
    const del = await client.request({ command: "delete", "call-id": id, "from-tag": "ft-" + id });
    expect(del.result).toBe("ok");
  }, 15_000);
});
