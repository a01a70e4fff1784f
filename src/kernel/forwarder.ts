// The kernel fast path: the relay's rules go to xt_RTPENGINE (/proc/rtpengine/N/control); counters come from blist; any failure falls back to userspace.
//
// It is a ShimFastPath so the relay needs no change: a rule the kernel refuses (or loses) is
// installed in the shim's userspace fast path instead, logged and counted (src/kernel/status.ts).
import type { ForwardingRule } from "./rule.ts";
import { ShimFastPath, type InstalledRule, type RuleCounters } from "../media/fastpath.ts";
import type { ShimRaw } from "../platform/shim-abi.ts";
import type { KernelTable } from "./proc.ts";
import { decodeBlist, encodeKernelDel, encodeKernelRule, localKey, type BlistEntry } from "./rule-kernel.ts";
import { kernelStatus } from "./status.ts";
import type { KernelError } from "./proc.ts";
import { kernelSrtpRefusal, type KernelSrtpIndices } from "./srtp-kernel.ts";

/** Where one installed rule lives now. */
type Plane = { kind: "kernel"; key: string } | { kind: "shim"; inner: InstalledRule };

export interface KernelFastPathOptions {
  /** `--tos` for rules that leave TOS to the socket (0 = none) */
  tos: number;
  log: { info(m: string): void; warning(m: string): void };
  /** blist snapshots younger than this are reused (many streams are credited per tick), ms */
  snapshotMs?: number;
  /** how often rules of closed sockets are removed from the kernel, ms */
  sweepMs?: number;
}

const zero = (): RuleCounters => ({ packets: 0, bytes: 0, errors: 0, lastMs: 0 });
const describe = (r: ForwardingRule): string => `${r.local.local.address}:${r.local.local.port} -> ${r.outDst.address}:${r.outDst.port}`;

export class KernelFastPath extends ShimFastPath {
  private readonly planes = new WeakMap<InstalledRule, Plane>();
  /** the installation that currently owns each kernel match key: only it may delete the rule */
  private readonly owners = new Map<string, InstalledRule>();
  private snapshot: Map<string, BlistEntry> | null = null;
  private snapshotAt = 0;
  /** the blist SRTP hand-backs of this event-loop turn use */
  private handBackSnap: Map<string, BlistEntry> | null = null;
  private nextCookie = 1n;
  private readonly sweeper: ReturnType<typeof setInterval>;
  /** fallback warnings: a full table (ENOSPC) at a high call rate must not flood the log */
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(raw: ShimRaw, private readonly table: KernelTable, private readonly opts: KernelFastPathOptions) {
    super(raw);
    this.sweeper = setInterval(() => this.sweep(), opts.sweepMs ?? 1000);
    (this.sweeper as { unref?: () => void }).unref?.();
  }

  override install(...args: Parameters<ShimFastPath["install"]>): InstalledRule | string {
    const [rule, socket, output] = args;
    // the kernel module has no RTCP demux (muxed RTCP out of another socket): the shim forwards those, quietly
    if (rule.rtcpDemux) return this.toShim(args);
    const key = localKey(rule.local.local);
    // the cookie only tells installations apart in N/list; the table is ours alone, so the key identifies the rule
    const cookie = this.nextCookie++;
    // the kernel writes the TOS byte itself; the shim would leave the socket's
    const kr: ForwardingRule = { ...rule, tos: rule.tos ?? (this.opts.tos > 0 ? this.opts.tos : null) };
    // SRTP: the module takes the keys and continues userspace's indices; what it cannot do stays in the shim, said why
    let ix: KernelSrtpIndices | undefined;
    if (rule.srtp) {
      const ks = rule.srtp.kernel;
      let why: string | null = "no SRTP keys for the kernel";
      if (ks) {
        try {
          ix = ks.current();
          why = rule.payload === "other" ? "SRTP on a rule that is not RTP or RTCP" : kernelSrtpRefusal(ks, ix);
        } catch (e) {
          why = `SRTP indices unreadable (${(e as Error).message})`;
        }
      }
      if (why) {
        kernelStatus.srtpInUserspace++;
        this.warn(`Kernel rule ${describe(rule)} stays in userspace: ${why}`);
        return this.toShim(args);
      }
    }
    try {
      this.put(kr, cookie, ix);
    } catch (e) {
      kernelStatus.writeFailures++;
      this.warn(`Kernel rule ${describe(rule)} not installed (${(e as Error).message}): forwarding in userspace`);
      return this.toShim(args);
    }
    const ir: InstalledRule = { rule, socket, output, credited: zero() };
    this.planes.set(ir, { kind: "kernel", key });
    this.owners.set(key, ir);
    kernelStatus.rules = this.owners.size;
    return ir;
  }

  /** ADD, or UPDATE when the key is taken (a replaced rule keeps its counters, as in the shim). */
  private put(rule: ForwardingRule, cookie: bigint, ix?: KernelSrtpIndices): void {
    this.snapshot = null;
    try {
      this.table.write(encodeKernelRule(rule, "add", cookie, ix), "kernel rule add");
    } catch (e) {
      if ((e as KernelError).code !== "EEXIST") throw e;
      this.table.write(encodeKernelRule(rule, "update", cookie, ix), "kernel rule update");
    }
  }

  private toShim(args: Parameters<ShimFastPath["install"]>): InstalledRule | string {
    const inner = super.install(...args);
    if (typeof inner === "string") return inner;
    this.planes.set(inner, { kind: "shim", inner });
    return inner;
  }

  override read(ir: InstalledRule): RuleCounters | null {
    const p = this.planes.get(ir);
    if (!p) return super.read(ir);
    if (p.kind === "shim") return super.read(p.inner);
    if (ir.socket.isClosed) return null;
    const snap = this.blist();
    if (!snap) return null;
    const e = snap.get(p.key);
    if (this.owners.get(p.key) !== ir) return null; // replaced by a newer installation of the same key
    if (!e) {
      this.lost(ir, p.key);
      return null;
    }
    const s = e.stats;
    // SRTP rules: failed authentication is counted apart (src/media/relay.ts credits it as the shim's)
    if (ir.rule.srtp) return { packets: s.packets, bytes: s.bytes, errors: s.errors, lastMs: s.lastMs, authFailed: s.authFailed };
    return { packets: s.packets, bytes: s.bytes, errors: s.errors + s.authFailed, lastMs: s.lastMs };
  }

  override delta(ir: InstalledRule): RuleCounters | null {
    const now = this.read(ir);
    if (!now) return null;
    // moved to another plane (or replaced across planes): its counters start again from zero
    if (now.packets < ir.credited.packets || now.bytes < ir.credited.bytes) ir.credited = zero();
    const d = {
      packets: now.packets - ir.credited.packets,
      bytes: now.bytes - ir.credited.bytes,
      errors: Math.max(0, now.errors - ir.credited.errors),
      lastMs: now.lastMs,
      authFailed: Math.max(0, (now.authFailed ?? 0) - (ir.credited.authFailed ?? 0)),
      // shim-plane rules on an rtcp-mux port (demux): their RTCP share
      muxRtcpPackets: Math.max(0, (now.muxRtcpPackets ?? 0) - (ir.credited.muxRtcpPackets ?? 0)),
      muxRtcpBytes: Math.max(0, (now.muxRtcpBytes ?? 0) - (ir.credited.muxRtcpBytes ?? 0)),
    };
    ir.credited = now;
    return d;
  }

  override withdraw(ir: InstalledRule): void {
    const p = this.planes.get(ir);
    if (!p) return super.withdraw(ir);
    if (p.kind === "shim") return super.withdraw(p.inner);
    if (ir.rule.srtp?.kernel && this.owners.get(p.key) === ir) this.handBack(ir, p.key);
    this.del(ir, p.key);
  }

  /** SRTP: the kernel's ROCs, sequence numbers and SRTCP index go back to the rule's contexts before the rule is deleted (src/media/secure-fast.ts passes them on). */
  private handBack(ir: InstalledRule, key: string): void {
    // a fresh blist, read once per event-loop turn: a call (or many) going at once costs one read, and what the
    // kernel forwards meanwhile is covered (RTP indices come from the packets, SRTCP skips SRTCP_HANDOVER_GAP)
    if (!this.handBackSnap) {
      this.snapshot = null;
      this.handBackSnap = this.blist() ?? new Map();
      setImmediate(() => (this.handBackSnap = null));
    }
    const e = this.handBackSnap.get(key);
    if (!e) return;
    try {
      ir.rule.srtp!.kernel!.handBack({ ssrcs: e.ssrcs, rtcpIndex: e.rtcpIndex });
    } catch (err) {
      this.opts.log.warning(`Kernel rule ${describe(ir.rule)}: SRTP indices not handed back (${(err as Error).message})`);
    }
  }

  /** Remove a kernel rule if `ir` still owns its key (a socket closed meanwhile does not remove it, unlike the shim's). */
  private del(ir: InstalledRule, key: string): void {
    this.planes.delete(ir);
    if (this.owners.get(key) !== ir) return;
    this.owners.delete(key);
    kernelStatus.rules = this.owners.size;
    this.snapshot = null;
    try {
      this.table.write(encodeKernelDel(ir.rule.local.local), "kernel rule delete");
    } catch (e) {
      if ((e as KernelError).code !== "ENOENT") this.opts.log.warning(`Kernel rule ${describe(ir.rule)} not deleted: ${(e as Error).message}`);
    }
  }

  /** The rule vanished from the kernel: forward in userspace from now on, said in the log and counted. */
  private lost(ir: InstalledRule, key: string): void {
    this.owners.delete(key);
    kernelStatus.rules = this.owners.size;
    kernelStatus.lostRules++;
    this.warn(`Kernel rule ${describe(ir.rule)} vanished from table ${this.table.id}: forwarding in userspace`);
    const inner = super.install(ir.rule, ir.socket, ir.output);
    if (typeof inner === "string") {
      this.planes.delete(ir);
      this.opts.log.warning(`Userspace fast path refused ${describe(ir.rule)} too (${inner}): packets stay in the slow path`);
      return;
    }
    this.planes.set(ir, { kind: "shim", inner });
    ir.credited = zero();
  }

  /** At most 10 fallback warnings a second; the rest are counted and reported with the next one logged. */
  private warn(msg: string): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.inWindow > 10) {
      this.suppressed++;
      return;
    }
    const note = this.suppressed ? ` (${this.suppressed} more fallbacks not logged before this one)` : "";
    this.suppressed = 0;
    this.opts.log.warning(msg + note);
  }

  /** A blist snapshot by match key (cached briefly); null when it cannot be read (counted as lost rules on the next good read). */
  private blist(): Map<string, BlistEntry> | null {
    const now = Date.now();
    if (this.snapshot && now - this.snapshotAt < (this.opts.snapshotMs ?? 50)) return this.snapshot;
    try {
      const m = new Map<string, BlistEntry>();
      for (const e of decodeBlist(this.table.readBlist())) m.set(localKey(e.local), e);
      this.snapshot = m;
      this.snapshotAt = now;
      return m;
    } catch (e) {
      this.opts.log.warning(`Kernel table ${this.table.id} blist unreadable: ${(e as Error).message}`);
      return null;
    }
  }

  /** Rules whose local socket closed without a withdraw (ports released on re-INVITE) leave the kernel. */
  private sweep(): void {
    for (const [key, ir] of [...this.owners]) if (ir.socket.isClosed) this.del(ir, key);
  }

  /** Stop the sweeper (the table itself is closed by src/kernel/setup.ts). */
  stop(): void {
    clearInterval(this.sweeper);
  }
}
