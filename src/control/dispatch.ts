// ng dispatcher: decode, answer retransmissions from a cookie-keyed reply cache, run the registered handler, count, encode.
import { encodeNgMessage, parseNgMessage, type NgEncoding } from "./codec.ts";
import { documentedSpelling, isDocumentedCommand } from "./known.ts";
import { lookupCommand, registerCommand, registeredName } from "./registry.ts";
import { controlCounters, countCommand, countProxyError } from "./stats.ts";
import { NgError, type NgContext, type NgDict } from "./types.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("control");

export interface DispatcherOptions {
  /** how long a reply stays answerable by cookie: rtpengine 10.5.3.5 still answered from its cache after 60 s, not after 70 s */
  cacheTtlMs?: number;
  /** bounds on cached replies so a flood of unique cookies cannot grow memory without limit */
  maxCacheEntries?: number;
  maxCacheBytes?: number;
}

interface CacheEntry {
  reply: Buffer;
  expires: number;
}

function peer(ctx: NgContext): string {
  return ctx.remoteAddress.includes(":") ? `[${ctx.remoteAddress}]:${ctx.remotePort}` : `${ctx.remoteAddress}:${ctx.remotePort}`;
}

/** Printable preview of untrusted bytes for log lines. */
function preview(buf: Uint8Array): string {
  const s = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.byteLength, 80)).toString("latin1");
  return JSON.stringify(s) + (buf.byteLength > 80 ? `... (${buf.byteLength} bytes)` : "");
}

export class NgDispatcher {
  private readonly ttl: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private cacheBytes = 0;
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * Eviction order (oldest first, from `orderHead`). The Map itself is never iterated: in JSC, iterating a
   * Map from the front walks over every deleted slot, which made each insert cost ~70 µs once the cache
   * was full (perf: measured with 100k entries). Entries replaced since are skipped (not `live`).
   */
  private order: Array<{ cookie: string; entry: CacheEntry }> = [];
  private orderHead = 0;
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  /** while set, requests wait here: the listeners are bound before the call engine is ready */
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  constructor(opts: DispatcherOptions = {}) {
    this.ttl = opts.cacheTtlMs ?? 60_000;
    this.maxEntries = opts.maxCacheEntries ?? 100_000;
    this.maxBytes = opts.maxCacheBytes ?? 64 * 1024 * 1024;
    if (!lookupCommand("ping")) registerCommand("ping", () => ({ result: "pong" }));
    // expired replies also go when no new command arrives (held calls would otherwise keep their
    // offer and answer replies, ~2.5 KiB per call, for as long as the control plane stays quiet)
    const sweep = setInterval(() => this.evict(Date.now(), 0), Math.min(this.ttl, 10_000));
    (sweep as { unref?: () => void }).unref?.();
  }

  /** Make requests wait until release() (startup: sockets bound, handlers not registered yet). */
  hold(): void {
    if (!this.gate) this.gate = new Promise<void>((r) => (this.openGate = r));
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  /** Handle one ng message; resolves to the encoded reply, or null when the message is dropped. Never rejects. */
  async handle(buf: Uint8Array, ctx: NgContext): Promise<Buffer | null> {
    if (this.gate) await this.gate;
    const parsed = parseNgMessage(buf);
    if (parsed.kind === "drop") {
      controlCounters.dropped++;
      log.warning(`Received invalid ng data (${parsed.reason}) from ${peer(ctx)}: ${preview(buf)}`);
      return null;
    }
    const { cookie, encoding } = parsed;
    const now = Date.now();
    const cached = this.cache.get(cookie);
    if (cached && cached.expires > now) {
      controlCounters.retransmissions++;
      log.info(`Detected command from ${peer(ctx)} as a duplicate (cookie ${JSON.stringify(cookie)}), replying from cache`);
      return cached.reply;
    }
    const pending = this.inFlight.get(cookie);
    if (pending) {
      controlCounters.retransmissions++;
      log.info(`Retransmission of in-progress command from ${peer(ctx)} (cookie ${JSON.stringify(cookie)}), waiting for its reply`);
      return pending;
    }
    if (parsed.kind === "error") {
      controlCounters.malformed++;
      countProxyError(ctx.remoteAddress);
      log.warning(`Invalid ng message from ${peer(ctx)}: ${parsed.reason}${parsed.detail ? ` (${parsed.detail})` : ""}: ${preview(buf)}`);
      return encodeNgMessage(cookie, encoding, errorReply(parsed.reason));
    }
    const work = this.execute(parsed.command, parsed.dict, ctx, cookie, encoding);
    this.inFlight.set(cookie, work);
    try {
      const reply = await work;
      this.remember(cookie, reply, Date.now());
      return reply;
    } finally {
      this.inFlight.delete(cookie);
    }
  }

  private async execute(command: string, dict: NgDict, ctx: NgContext, cookie: string, encoding: NgEncoding): Promise<Buffer> {
    const started = performance.now();
    if (log.enabled(6)) log.info(`Received command '${command}' from ${peer(ctx)}`); // format only when info is on
    if (log.enabled(7)) log.debug(`Dump for '${command}' from ${peer(ctx)}: ${JSON.stringify(dict)}`);
    let reply: NgDict;
    let failed = false;
    // Case-sensitive on the wire, like rtpengine: "block dtmf" is not "block DTMF".
    const canonical = documentedSpelling(command) ?? registeredName(command);
    const handler = canonical === command ? lookupCommand(command) : undefined;
    if (!handler) {
      failed = true;
      if (isDocumentedCommand(command)) {
        reply = errorReply(`${command} not implemented`);
      } else {
        controlCounters.unknownCommand++;
        reply = errorReply("Unrecognized command");
      }
    } else {
      try {
        reply = await handler(dict, ctx);
        if (reply["result"] === undefined) reply = { result: "ok", ...reply };
        failed = reply["result"] === "error";
      } catch (e) {
        failed = true;
        if (e instanceof NgError) {
          reply = errorReply(e.message);
        } else {
          controlCounters.internalErrors++;
          const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
          log.err(`Internal error while handling '${command}' from ${peer(ctx)}: ${err}`);
          reply = errorReply("internal error");
        }
      }
    }
    const ms = performance.now() - started;
    if (!handler) countCommand(isDocumentedCommand(command) ? command : "(unknown)", ms, true, ctx.remoteAddress);
    else countCommand(command, ms, failed, ctx.remoteAddress);
    if (failed) log.warning(`Protocol error in packet from ${peer(ctx)}: ${String(reply["error-reason"])}`);
    if (log.enabled(6)) log.info(`Replying to '${command}' from ${peer(ctx)} (elapsed time ${(ms / 1000).toFixed(6)} sec)`);
    try {
      return encodeNgMessage(cookie, encoding, reply);
    } catch (e) {
      // A handler returned something unencodable: still answer.
      controlCounters.internalErrors++;
      log.err(`Could not encode reply to '${command}': ${(e as Error).message}`);
      return encodeNgMessage(cookie, encoding, errorReply("internal error"));
    }
  }

  private remember(cookie: string, reply: Buffer, now: number): void {
    const old = this.cache.get(cookie);
    if (old) {
      this.cache.delete(cookie);
      this.cacheBytes -= old.reply.length;
    }
    this.evict(now, reply.length);
    const entry = { reply, expires: now + this.ttl };
    this.cache.set(cookie, entry);
    this.order.push({ cookie, entry });
    this.cacheBytes += reply.length;
  }

  /** Drop expired entries and, for an incoming reply of `incoming` bytes, the oldest ones until it fits. */
  private evict(now: number, incoming: number): void {
    // `order` is insertion order, so the oldest entries are at the front.
    while (this.orderHead < this.order.length) {
      const front = this.order[this.orderHead]!;
      const live = this.cache.get(front.cookie) === front.entry;
      // room is made only for an incoming reply (incoming > 0); the sweep only expires
      const full = incoming > 0 && (this.cache.size >= this.maxEntries || this.cacheBytes + incoming > this.maxBytes);
      if (live && front.entry.expires > now && !full) break;
      this.orderHead++;
      if (live) {
        this.cache.delete(front.cookie);
        this.cacheBytes -= front.entry.reply.length;
      }
    }
    if (this.orderHead >= 1024 && this.orderHead * 2 >= this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    // everything expired: let go of the array too
    if (this.orderHead === this.order.length && this.orderHead > 0) {
      this.order = [];
      this.orderHead = 0;
    }
  }

  /** Number of cached replies (for tests and statistics). */
  get cacheSize(): number {
    return this.cache.size;
  }
}

export function errorReply(reason: string): NgDict {
  return { result: "error", "error-reason": reason };
}
