// Integration: the daemon from source answers ng over UDP (v4, v6), TCP and HTTP/WS, survives hostile input, caches retransmissions.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { spawnDaemon, splitReply, type TestDaemon } from "../helpers/daemon.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

let d: TestDaemon;

beforeAll(async () => {
  d = await spawnDaemon({ tcpNg: true, cli: true, http: true });
});
afterAll(async () => {
  await d?.stop();
});

async function counters(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await d.cli("list ngcounters")).split("\n")) {
    const m = /^(.+?) = (\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

describe("ng transports", () => {
  test("ping over UDP IPv4", async () => {
    expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
  });

  test("ping over TCP, two messages back to back in one segment", async () => {
    expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
    const sock = net.connect(d.tcpNgPort!, "127.0.0.1");
    const got = await new Promise<string>((res, rej) => {
      let s = "";
      sock.on("connect", () => sock.write("t4 d7:command4:pinget5 d7:command4:pinge"));
      sock.on("data", (x) => {
        s += x.toString();
        if (s.length >= 38) res(s);
      });
      sock.on("error", rej);
      setTimeout(() => rej(new Error(`timeout, got ${JSON.stringify(s)}`)), 3000);
    });
    sock.destroy();
    expect(got).toBe("t4 d6:result4:ponget5 d6:result4:ponge");
  });

  test("JSON request gets a JSON reply", async () => {
    const r = await d.rawUdp('js1 {"command":"ping"}');
    expect(r?.toString()).toBe('js1 {"result":"pong"}');
  });

  test("HTTP: GET /ping, POST /ng, GET /cli/", async () => {
    const base = `http://127.0.0.1:${d.httpPort}`;
    expect(await (await fetch(`${base}/ping`)).text()).toBe("pong");
    const r = await fetch(`${base}/ng`, { method: "POST", headers: { "Content-Type": "application/x-rtpengine-ng" }, body: "h1 d7:command4:pinge" });
    expect(await r.text()).toBe("h1 d6:result4:ponge");
    expect(await (await fetch(`${base}/cli/get+loglevel+core`)).text()).toBe("6\n");
  });

  test("WebSocket subprotocol ng.rtpengine.com", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/`, "ng.rtpengine.com");
    const reply = await new Promise<string>((res, rej) => {
      ws.onopen = () => ws.send("w1 d7:command4:pinge");
      ws.onmessage = (ev) => res(typeof ev.data === "string" ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString());
      ws.onerror = () => rej(new Error("ws error"));
      setTimeout(() => rej(new Error("ws timeout")), 3000);
    });
    ws.close();
    expect(reply).toBe("w1 d6:result4:ponge");
  });
});

test("WebSocket subprotocols cli.rtpengine.com and echo.rtpengine.com", async () => {
  const once = (proto: string, msg: string) =>
    new Promise<string>((res, rej) => {
      const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/`, proto);
      ws.onopen = () => ws.send(msg);
      ws.onmessage = (ev) => {
        ws.close();
        res(String(ev.data));
      };
      ws.onerror = () => rej(new Error("ws error"));
      setTimeout(() => rej(new Error("ws timeout")), 3000);
    });
  expect(await once("cli.rtpengine.com", "get loglevel core")).toBe("6\n");
  expect(await once("echo.rtpengine.com", "hello")).toBe("hello");
});

test("TCP: a message larger than the limit closes the connection, the daemon keeps serving", async () => {
  const sock = net.connect(d.tcpNgPort!, "127.0.0.1");
  const closed = new Promise<void>((res) => sock.on("close", () => res()));
  sock.on("error", () => undefined);
  sock.write(`big d7:command4:ping3:pad${5 * 1024 * 1024}:`);
  for (let i = 0; i < 5 && !sock.destroyed; i++) sock.write(Buffer.alloc(1024 * 1024, 0x61));
  await closed;
  expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
});

test("CLI over calls: numsessions, jsonstats, sessions, terminate", async () => {
  const sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  const offer = await d.ng({ command: "offer", "call-id": "cli-call-1", "from-tag": "ft1", sdp });
  expect(offer["result"]).toBe("ok");
  expect(await d.cli("list numsessions")).toStartWith("Current sessions own: 1\nCurrent sessions foreign: 0\nCurrent sessions total: 1\n");
  const json = JSON.parse(await d.cli("list jsonstats"));
  expect(json.currentstatistics.sessionstotal).toBe(1);
  expect(json.controlstatistics.totaloffercount).toBeGreaterThanOrEqual(1);
  expect(await d.cli("list sessions all")).toContain("cli-call-1");
  expect(await d.cli("list totals")).toContain(" Total sessions                                  :1\n");
  expect(await d.cli("terminate cli-call-1")).toBe("\nCall Id (cli-call-1) successfully terminated by operator.\n\n");
  expect(await d.cli("list numsessions")).toStartWith("Current sessions own: 0\n");
  // `set maxsessions 0` drains: the engine refuses new calls
  expect(await d.cli("set maxsessions 0")).toBe("Success setting maxsessions to 0\n");
  const refused = await d.ng({ command: "offer", "call-id": "cli-call-2", "from-tag": "ft2", sdp });
  expect(refused).toEqual({ result: "error", "error-reason": "Parallel session limit reached" });
  expect(await d.cli("set maxsessions -1")).toBe("Success setting maxsessions to -1\n");
  expect((await d.ng({ command: "offer", "call-id": "cli-call-3", "from-tag": "ft3", sdp }))["result"]).toBe("ok");
});

test("random bytes on the TCP ng, HTTP and CLI ports do not stop the daemon", async () => {
  const spray = (port: number) =>
    new Promise<void>((res) => {
      const s = net.connect(port, "127.0.0.1", () => {
        for (let i = 0; i < 20; i++) s.write(randomBytes(500));
        s.end();
      });
      s.resume(); // read (and drop) whatever the daemon answers, so its close reaches us
      s.on("error", () => res());
      s.on("close", () => res());
      setTimeout(() => (s.destroy(), res()), 2000);
    });
  for (let round = 0; round < 10; round++) {
    await Promise.all([spray(d.tcpNgPort!), spray(d.httpPort!), spray(d.cliPort!)]);
  }
  expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
  expect(await (await fetch(`http://127.0.0.1:${d.httpPort}/ping`)).text()).toBe("pong");
  expect(await d.cli("get loglevel core")).toBe("6\n");
});

describe("ng protocol behaviour", () => {
  test("a retransmitted cookie is answered from the cache, not executed twice", async () => {
    const before = await counters();
    const a = await d.ng({ command: "ping" }, { cookie: "retrans-1" });
    const b = await d.ng({ command: "ping" }, { cookie: "retrans-1" });
    expect(a).toEqual(b);
    const after = await counters();
    expect(after["ping"]! - (before["ping"] ?? 0)).toBe(1);
    expect(after["retransmissions"]! - before["retransmissions"]!).toBe(1);
  });

  test.each([
    ["m1 garbage", "Invalid NG data format"],
    ["m2 li1ee", "Invalid NG data format"],
    ["m3 d3:fooi1ee", 'Dictionary contains no key "command"'],
    ["m4 d7:command5:bogose", "Unrecognized command"],
    ["m5 d7:command12:subscribe r", "Could not decode bencode dictionary"],
  ])("malformed %j -> error %j", async (msg, reason) => {
    const r = await d.rawUdp(msg);
    expect(r).not.toBeNull();
    const { cookie, dict } = splitReply(r!);
    expect(cookie).toBe(msg.split(" ")[0]!);
    expect(dict).toEqual({ result: "error", "error-reason": reason });
  });

  test("a documented command is never 'Unrecognized' (until built it says 'not implemented')", async () => {
    const { dict } = splitReply((await d.rawUdp("m6 d7:command9:play DTMFe"))!);
    expect(dict["result"]).toBe("error");
    expect(dict["error-reason"]).not.toBe("Unrecognized command");
  });

  test("no cookie: no reply, counted as dropped", async () => {
    const before = (await counters())["dropped"]!;
    expect(await d.rawUdp("nocookie", 300)).toBeNull();
    expect((await counters())["dropped"]).toBe(before + 1);
    expect(d.log()).toContain("Received invalid ng data (no cookie)");
  });

  test("a huge datagram gets an error reply", async () => {
    const r = await d.rawUdp("big1 " + "z".repeat(60000));
    expect(splitReply(r!).dict["result"]).toBe("error");
    const big = await d.rawUdp(`big2 d7:command4:ping3:pad60000:${"p".repeat(60000)}e`);
    expect(splitReply(big!).dict).toEqual({ result: "pong" });
  });

  test("a reply to a vanished client does not cost the next client its reply", async () => {
    const dgram = await import("node:dgram");
    for (let i = 0; i < 10; i++) {
      const gone = dgram.createSocket("udp4");
      await new Promise<void>((r) => gone.bind(0, "127.0.0.1", () => r()));
      for (let j = 0; j < 50; j++) gone.send(`gone${i}_${j} d7:command4:pinge`, d.ngPort, "127.0.0.1");
      gone.close();
      expect(await d.ng({ command: "ping" }, { timeout: 2000 })).toEqual({ result: "pong" });
    }
  });

  test("a burst of 2000 requests is received in full (enlarged socket buffer)", async () => {
    const dgram = await import("node:dgram");
    const before = (await counters())["ping"] ?? 0;
    const s = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    for (let i = 0; i < 2000; i++) {
      s.send(`burst${i} d7:command4:pinge`, d.ngPort, "127.0.0.1");
      if (i % 500 === 499) await Bun.sleep(1);
    }
    const deadline = Date.now() + 10000;
    let n = 0;
    while (Date.now() < deadline && (n = ((await counters())["ping"] ?? 0) - before) < 2000) await Bun.sleep(100);
    s.close();
    expect(n).toBe(2000);
  });

  test("a few thousand random datagrams do not stop the daemon", async () => {
    const dgram = await import("node:dgram");
    const s = dgram.createSocket("udp4");
    for (let i = 0; i < 3000; i++) {
      const prefix = i % 3 === 0 ? Buffer.from(`r${i} d`) : Buffer.alloc(0);
      s.send(Buffer.concat([prefix, randomBytes(1 + (i % 300))]), d.ngPort, "127.0.0.1");
      if (i % 200 === 0) await Bun.sleep(5);
    }
    await Bun.sleep(300);
    s.close();
    // generous timeout: the daemon may still be working through the flood on a loaded machine
    const r = await d.ng({ command: "ping" }, { timeout: 10000 }).catch(async (e: Error) => {
      // say as much as we can about a daemon that went quiet
      const counters = await d.cli("list ngcounters").catch((x: Error) => `CLI failed too: ${x.message}`);
      throw new Error(`${e.message}\ncounters:\n${counters}\nlog tail:\n${d.log().slice(-1500)}`);
    });
    expect(r).toEqual({ result: "pong" });
    const c = await counters();
    expect((c["dropped"] ?? 0) + (c["malformed"] ?? 0)).toBeGreaterThan(500);
  });
});
