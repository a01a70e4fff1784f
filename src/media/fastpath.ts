// The shim fast path: installs, withdraws and reads forwarding rules in the shim's receive thread.
import { encodeExpectedSrc, encodeShimRule, type ForwardingRule } from "../kernel/rule.ts";
import { ADDR_SIZE, RULE_STATS_WORDS, type ShimRaw } from "../platform/shim-abi.ts";
import type { MediaSocket } from "./socket.ts";

export interface RuleCounters {
  packets: number;
  bytes: number;
  errors: number;
  /** ms since the epoch of the last forwarded packet, 0 = none */
  lastMs: number;
  /** SRTP rules: packets that failed authentication or replay (dropped; ffi/rule_srtp.c) */
  authFailed?: number;
  /** rules on an rtcp-mux port: of packets/bytes, the RTCP (ffi/rule.c rule_accepts) */
  muxRtcpPackets?: number;
  muxRtcpBytes?: number;
}

/** A rule as installed, with the counters already credited to the stream. */
export interface InstalledRule {
  readonly rule: ForwardingRule;
  /** the socket the rule lives on: once it is closed the rule is gone with it (never delete by a reused handle) */
  readonly socket: MediaSocket;
  /** the socket it sends from: when that one closes (the other side went away) the rule must go */
  readonly output: MediaSocket;
  credited: RuleCounters;
}

/** Whether the fast path is used: RTPENGINE_TS_FASTPATH=0 keeps every packet in TypeScript (tests run both planes). */
export function fastPathEnabled(env: Record<string, string | undefined> = process.env): boolean {
  const v = env["RTPENGINE_TS_FASTPATH"];
  return v === undefined || !["0", "off", "no", "false"].includes(v.toLowerCase());
}

/** Word i of a u64 array viewed as little-endian u32 halves. */
function u64(w: Uint32Array, i: number): number {
  return w[2 * i]! + w[2 * i + 1]! * 4294967296;
}

export class ShimFastPath {
  // One buffer for every read: counters are read once a second for every rule, and each BigInt or
  // buffer made there would be garbage (4,000 calls: ~50k cells a second). The u64 words are read as
  // two u32 halves: exact up to 2^53, which no counter reaches.
  private readonly statsOut = new BigUint64Array(RULE_STATS_WORDS);
  private readonly statsWords = new Uint32Array(this.statsOut.buffer);
  private readonly expectedSrc = new Uint8Array(ADDR_SIZE);

  constructor(private readonly raw: ShimRaw) {}

  /** Add (or replace) the rule; returns the installation, or an error text. */
  install(rule: ForwardingRule, socket: MediaSocket, output: MediaSocket): InstalledRule | string {
    const r = this.raw.rtpe_rule_add(encodeShimRule(rule));
    if (r < 0) return `rtpe_rule_add: errno ${-r}`;
    return { rule, socket, output, credited: { packets: 0, bytes: 0, errors: 0, lastMs: 0 } };
  }

  /** Counters since installation (null when the socket or rule is gone). */
  read(ir: InstalledRule): RuleCounters | null {
    if (ir.socket.isClosed) return null;
    if (this.raw.rtpe_rule_stats(ir.rule.local.handle, encodeExpectedSrc(ir.rule, this.expectedSrc), this.statsOut) < 0) return null;
    const w = this.statsWords;
    return { packets: u64(w, 0), bytes: u64(w, 1), errors: u64(w, 2), lastMs: Math.floor(u64(w, 3) / 1e6), authFailed: u64(w, 5), muxRtcpPackets: u64(w, 6), muxRtcpBytes: u64(w, 7) };
  }

  /** The counter increase since the last call, credited now. */
  delta(ir: InstalledRule): RuleCounters | null {
    const now = this.read(ir);
    if (!now) return null;
    const d = {
      packets: now.packets - ir.credited.packets,
      bytes: now.bytes - ir.credited.bytes,
      errors: now.errors - ir.credited.errors,
      lastMs: now.lastMs,
      authFailed: (now.authFailed ?? 0) - (ir.credited.authFailed ?? 0),
      muxRtcpPackets: (now.muxRtcpPackets ?? 0) - (ir.credited.muxRtcpPackets ?? 0),
      muxRtcpBytes: (now.muxRtcpBytes ?? 0) - (ir.credited.muxRtcpBytes ?? 0),
    };
    ir.credited = now;
    return d;
  }

  /** Whether this installation forwards in the kernel (`query` shows "no kernel support" otherwise). */
  inKernel(_ir: InstalledRule): boolean {
    return false;
  }

  withdraw(ir: InstalledRule): void {
    if (ir.socket.isClosed) return;
    this.raw.rtpe_rule_del(ir.rule.local.handle, encodeExpectedSrc(ir.rule, this.expectedSrc));
  }
}
