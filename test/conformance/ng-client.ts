// Minimal ng client for tests: its own bencode codec (independent of the daemon's) and a UDP request/reply loop.
import { randomBytes } from "node:crypto";
import type { udp } from "bun";

export type NgValue = string | number | Uint8Array | NgValue[] | { [k: string]: NgValue };
export type NgDict = { [k: string]: NgValue };

const enc = new TextEncoder();

/** Bencode a value; keys sorted bytewise as the format requires. Strings are UTF-8. */
export function bencode(v: NgValue): Uint8Array {
  const parts: Uint8Array[] = [];
  const put = (s: string) => parts.push(enc.encode(s));
  const bytes = (b: Uint8Array) => {
    put(`${b.length}:`);
    parts.push(b);
  };
  const walk = (x: NgValue): void => {
    if (typeof x === "number") {
      if (!Number.isInteger(x)) throw new Error(`bencode: not an integer: ${x}`);
      put(`i${x}e`);
    } else if (typeof x === "string") bytes(enc.encode(x));
    else if (x instanceof Uint8Array) bytes(x);
    else if (Array.isArray(x)) {
      put("l");
      x.forEach(walk);
      put("e");
    } else {
      put("d");
      const keys = Object.keys(x).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const k of keys) {
        bytes(enc.encode(k));
        walk(x[k]!);
      }
      put("e");
    }
  };
  walk(v);
  return Buffer.concat(parts);
}

/**
 * Decode bencode; byte strings become strings (UTF-8 when valid, else latin1 so nothing is lost).
 * Throws on malformed input instead of looping: replies come from the daemon under test.
 */
export function bdecode(buf: Uint8Array): NgValue {
  let pos = 0;
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const str = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return Buffer.from(b).toString("latin1");
    }
  };
  const fail = (what: string): never => {
    throw new Error(`bdecode: ${what} at ${pos}`);
  };
  const readInt = (end: number): number => {
    const i = buf.indexOf(end, pos);
    if (i < 0) fail("unterminated integer");
    const s = Buffer.from(buf.subarray(pos, i)).toString("latin1");
    if (!/^-?\d+$/.test(s)) fail(`bad integer '${s}'`);
    pos = i + 1;
    return Number(s);
  };
  const value = (depth: number): NgValue => {
    if (depth > 100) fail("nesting too deep");
    if (pos >= buf.length) fail("unexpected end");
    const c = buf[pos]!;
    if (c === 0x69 /* i */) {
      pos++;
      return readInt(0x65);
    }
    if (c === 0x6c /* l */) {
      pos++;
      const out: NgValue[] = [];
      while (buf[pos] !== 0x65) out.push(value(depth + 1));
      pos++;
      return out;
    }
    if (c === 0x64 /* d */) {
      pos++;
      const out: NgDict = {};
      while (buf[pos] !== 0x65) {
        const k = value(depth + 1);
        if (typeof k !== "string") fail("dictionary key not a string");
        out[k as string] = value(depth + 1);
      }
      pos++;
      return out;
    }
    if (c >= 0x30 && c <= 0x39) {
      const n = readInt(0x3a);
      if (pos + n > buf.length) fail("string past end");
      const s = str(buf.subarray(pos, pos + n));
      pos += n;
      return s;
    }
    return fail(`unexpected byte 0x${c.toString(16)}`);
  };
  const v = value(0);
  return v;
}

/** JSON-safe form of a value: byte strings become latin1 strings. */
function toJson(v: NgValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

export type Encoding = "bencode" | "json";

export interface NgClientOptions {
  host: string;
  port: number;
  /** Per-request timeout in ms (one retransmission with the same cookie at half of it). */
  timeoutMs?: number;
}

/** One UDP socket; requests matched to replies by cookie. */
export class NgClient {
  private sock!: udp.Socket<"buffer">;
  private pending = new Map<string, (reply: Uint8Array) => void>();
  private seq = 0;
  private readonly prefix = randomBytes(4).toString("hex");

  private constructor(private opts: NgClientOptions) {}

  static async open(opts: NgClientOptions): Promise<NgClient> {
    const c = new NgClient(opts);
    const family = opts.host.includes(":") ? "::" : "0.0.0.0";
    c.sock = await Bun.udpSocket({
      hostname: family,
      socket: {
        data: (_s, data) => c.onData(new Uint8Array(data)),
        error: () => {}, // ICMP unreachable while the daemon is not up yet
      },
    });
    return c;
  }

  private onData(data: Uint8Array): void {
    const sp = data.indexOf(0x20);
    if (sp <= 0) return;
    const cookie = Buffer.from(data.subarray(0, sp)).toString("latin1");
    const cb = this.pending.get(cookie);
    if (cb) {
      this.pending.delete(cookie);
      cb(data.subarray(sp + 1));
    }
  }

  /** Send raw bytes after a fresh cookie; resolves with the raw reply body or null on timeout. */
  async raw(body: Uint8Array, timeoutMs = this.opts.timeoutMs ?? 5000): Promise<Uint8Array | null> {
    const cookie = `${this.prefix}_${++this.seq}`;
    const msg = Buffer.concat([Buffer.from(cookie + " "), body]);
    return new Promise((resolve) => {
      const timers: ReturnType<typeof setTimeout>[] = [];
      this.pending.set(cookie, (r) => {
        timers.forEach(clearTimeout);
        resolve(r);
      });
      this.sock.send(msg, this.opts.port, this.opts.host);
      // rtpengine answers a repeated cookie from its cache, so a retransmission is safe
      timers.push(setTimeout(() => this.pending.has(cookie) && this.sock.send(msg, this.opts.port, this.opts.host), timeoutMs / 2));
      timers.push(
        setTimeout(() => {
          this.pending.delete(cookie);
          resolve(null);
        }, timeoutMs),
      );
    });
  }

  /** Send a request dict; returns the decoded reply dict, or throws on timeout / undecodable reply. */
  async request(dict: NgDict, encoding: Encoding = "bencode", timeoutMs?: number): Promise<NgDict> {
    const body = encoding === "json" ? enc.encode(JSON.stringify(toJson(dict))) : bencode(dict);
    const reply = await this.raw(body, timeoutMs);
    if (!reply) throw new Error(`timeout waiting for reply to '${String(dict.command)}'`);
    const text = Buffer.from(reply).toString("utf8").trimStart();
    const v = text.startsWith("{") ? (JSON.parse(text) as NgValue) : bdecode(reply);
    if (typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) throw new Error("reply is not a dictionary");
    return v;
  }

  close(): void {
    this.sock.close();
  }
}

/** Poll with ping until the daemon answers pong or the deadline passes. */
export async function waitForPing(c: NgClient, deadlineMs: number, alive: () => boolean = () => true): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end && alive()) {
    try {
      const r = await c.request({ command: "ping" }, "bencode", 500);
      if (r.result === "pong") return true;
    } catch {
      /* not up yet */
    }
    await Bun.sleep(100);
  }
  return false;
}
