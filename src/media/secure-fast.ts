// SRTP in the shim fast path: which keys a forwarding rule needs, the rule's own SRTP contexts (a context serves one thread), index handover, freeing after withdrawal.
//
//   const plan = srtpPlan(secure, from, fromPort1, to, toPort1)   null = keys not settled (stay in TypeScript)
//   const rs = RuleSrtp.make(plan, ssrcs)     (ssrcs: the stream's live SSRC set) fresh contexts with the same keys, ROC/SRTCP index copied from TypeScript's
//   rule.srtp = { key: plan.key, decrypt: rs.decryptPtr, encrypt: rs.encryptPtr, mux }
//   ... rtpe_rule_del / replacing rtpe_rule_add / socket closed (the shim thread no longer uses them) ...
//   rs.release()                              indices back to TypeScript's contexts, then free
//   rule.srtp.kernel = rs.kernel()            the same for xt_RTPENGINE: keys, seeds from the rule's contexts, the kernel's indices back into them
import type { Media } from "../call/model.ts";
import { fileURLToPath } from "node:url";
import type { SrtpContext } from "../crypto/srtp.ts"; // (types only: this module loads under Deno too, srtp.ts needs bun:ffi)
import { sourceShimPath } from "../platform/ffi.ts";
import type { SecureContexts, SecureMedia } from "./secure.ts";
import type { KernelSrtp, KernelSrtpIndices, KernelSrtpState } from "../kernel/srtp-kernel.ts";

/** DEFAULT_SRTP_LIBRARY of src/crypto/srtp.ts: the standalone library, never the shim. */
const STANDALONE_SRTP = fileURLToPath(new URL("../../ffi/build/librtpe_srtp.so", import.meta.url));

/** What a rule from `from`'s endpoint to `to`'s needs: `from`'s inbound keys (decrypt) and `to`'s outbound keys (encrypt), each only when that side does SRTP. */
export interface SrtpPlan {
  /** names the key sets: another key means another rule */
  readonly key: string;
  readonly from: SecureContexts | null;
  readonly to: SecureContexts | null;
}

/**
 * Whether the SRTP contexts TypeScript makes live in the shim's own copy of ffi/srtp (the shim built
 * with RTPE_SHIM_WITH=srtp and loaded as the SRTP library): only then may a rule carry them.
 */
export function srtpCodeIsShim(libraryPath: string, env: Record<string, string | undefined> = process.env): boolean {
  if (libraryPath.includes(" + ") || libraryPath === STANDALONE_SRTP) return false;
  const shimOverride = env["RTPE_SHIM_PATH"];
  if (shimOverride) return libraryPath === shimOverride;
  return libraryPath === sourceShimPath() || /^\/proc\/self\/fd\/\d+$/.test(libraryPath);
}

/** null when a side does SRTP but its keys are not ready (DTLS not done, an early association). */
export function srtpPlan(sec: SecureMedia, from: Media, fromPort1: boolean, to: Media, toPort1: boolean): SrtpPlan | null {
  const a = sec.active(from) ? sec.ready(from, fromPort1) : null;
  const b = sec.active(to) ? sec.ready(to, toPort1) : null;
  if ((sec.active(from) && !a) || (sec.active(to) && !b) || (!a && !b)) return null;
  return { key: `${a?.id ?? 0}/${b?.id ?? 0}`, from: a, to: b };
}

/**
 * SRTCP indices a rule's encrypt context skips at the handover: packets TypeScript had queued before
 * the rule existed still leave through its own context, with the indices that follow; the rule must
 * not reuse them (the receiver would drop them as replays). Well inside a 64-packet replay window.
 */
export const SRTCP_HANDOVER_GAP = 16;

function copyIndex(src: SrtpContext, dst: SrtpContext, ssrcs: Iterable<number>, srtcpGap = 0): void {
  for (const ssrc of ssrcs) {
    const i = src.getIndex(ssrc);
    if (i) dst.setIndex(ssrc, i.rtpIndex, (i.srtcpIndex + srtcpGap) & 0x7fffffff);
  }
}

/**
 * Indices only move forward: an SSRC's RTP index and SRTCP index become the larger of both. The RTP
 * and RTCP rules of one stream each fork the stream's contexts and hand back in any order; one that
 * carried only RTCP must not take the RTP index back (nor the other way round).
 */
function advanceIndex(dst: SrtpContext, ssrc: number, rtpIndex: bigint, srtcpIndex: number): void {
  const cur = dst.getIndex(ssrc);
  const rtp = cur && cur.rtpIndex > rtpIndex ? cur.rtpIndex : rtpIndex;
  const rtcp = cur && cur.srtcpIndex > srtcpIndex ? cur.srtcpIndex : srtcpIndex;
  if (!cur || rtp !== cur.rtpIndex || rtcp !== cur.srtcpIndex) dst.setIndex(ssrc, rtp, rtcp & 0x7fffffff);
}

function forwardIndex(src: SrtpContext, dst: SrtpContext, ssrcs: Iterable<number>): void {
  for (const ssrc of ssrcs) {
    const i = src.getIndex(ssrc);
    if (i) advanceIndex(dst, ssrc, i.rtpIndex, i.srtcpIndex);
  }
}

/** The SRTP contexts one rule owns. */
export class RuleSrtp {
  private constructor(
    readonly plan: SrtpPlan,
    readonly decrypt: SrtpContext | null,
    readonly encrypt: SrtpContext | null,
    private readonly ssrcs: readonly number[],
  ) {}

  /** SSRCs the kernel forwarded that userspace had not seen: their indices go back too */
  private readonly kernelSsrcs = new Set<number>();
  private released = false;

  /** Fresh contexts with the plan's keys; the rollover counters and SRTCP indices of known SSRCs continue TypeScript's. Throws when a context cannot be made. */
  static make(plan: SrtpPlan, ssrcs: readonly number[]): RuleSrtp {
    const list = [...ssrcs];
    let decrypt: SrtpContext | null = null, encrypt: SrtpContext | null = null;
    try {
      if (plan.from) {
        const f = plan.from.fork();
        f.outbound.free();
        decrypt = f.inbound;
        copyIndex(plan.from.inbound, decrypt, list);
      }
      if (plan.to) {
        const f = plan.to.fork();
        f.inbound.free();
        encrypt = f.outbound;
        copyIndex(plan.to.outbound, encrypt, list, SRTCP_HANDOVER_GAP);
      }
    } catch (e) {
      decrypt?.free();
      encrypt?.free();
      throw e;
    }
    return new RuleSrtp(plan, decrypt, encrypt, ssrcs);
  }

  get decryptPtr(): number {
    return this.decrypt ? Number(this.decrypt.pointer) : 0;
  }

  get encryptPtr(): number {
    return this.encrypt ? Number(this.encrypt.pointer) : 0;
  }

  /** Only once the shim cannot use them any more: hand the indices back (the slow path continues the streams), free. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const list = [...new Set([...this.ssrcs, ...this.kernelSsrcs])];
    try {
      if (this.decrypt && this.plan.from) forwardIndex(this.decrypt, this.plan.from.inbound, list);
      if (this.encrypt && this.plan.to) forwardIndex(this.encrypt, this.plan.to.outbound, list);
    } catch {
      /* TypeScript's contexts are gone already (new keys, the call ended): nothing to continue */
    }
    this.decrypt?.free();
    this.encrypt?.free();
  }

  /** The rule's SRTP for the kernel: the plan's keys; seeds and hand-back go through this rule's contexts (release() passes them on). */
  kernel(): KernelSrtp {
    return {
      decrypt: this.decrypt && this.plan.from ? this.plan.from.keys.inbound : null,
      encrypt: this.encrypt && this.plan.to ? this.plan.to.keys.outbound : null,
      current: () => this.kernelSeeds(),
      handBack: (st) => this.fromKernel(st),
    };
  }

  /** Userspace's indices in this rule's contexts: per known SSRC the ROCs (the plain side follows the other's) and the highest sequence number; the next SRTCP index. */
  private kernelSeeds(): KernelSrtpIndices {
    const ssrcs: { ssrc: number; rocIn: number; rocOut: number; seq: number }[] = [];
    let rtcpIndex = 0;
    for (const ssrc of new Set([...this.ssrcs, ...this.kernelSsrcs])) {
      const d = this.decrypt?.getIndex(ssrc), e = this.encrypt?.getIndex(ssrc);
      if (e && e.srtcpIndex > rtcpIndex) rtcpIndex = e.srtcpIndex;
      const i = d ?? e;
      if (!i) continue;
      const rocIn = Number((i.rtpIndex >> 16n) & 0xffffffffn);
      ssrcs.push({ ssrc, rocIn, rocOut: e ? Number((e.rtpIndex >> 16n) & 0xffffffffn) : rocIn, seq: Number(i.rtpIndex & 0xffffn) });
    }
    return { ssrcs, rtcpIndex };
  }

  /** The kernel's indices into this rule's contexts (before release() hands them on); the SRTCP index skips what may have left after blist was read. */
  private fromKernel(st: KernelSrtpState): void {
    if (this.released) return;
    for (const x of st.ssrcs) {
      if (x.packets <= 0) continue;
      this.kernelSsrcs.add(x.ssrc >>> 0);
      const seq = BigInt(x.lastSeq & 0xffff);
      if (this.decrypt) advanceIndex(this.decrypt, x.ssrc >>> 0, (BigInt(x.rocIn >>> 0) << 16n) | seq, this.decrypt.getIndex(x.ssrc >>> 0)?.srtcpIndex ?? 0);
      if (this.encrypt) advanceIndex(this.encrypt, x.ssrc >>> 0, (BigInt(x.rocOut >>> 0) << 16n) | seq, 0);
    }
    if (this.encrypt) {
      const next = (st.rtcpIndex + SRTCP_HANDOVER_GAP) & 0x7fffffff;
      for (const ssrc of new Set([...this.ssrcs, ...this.kernelSsrcs])) {
        const i = this.encrypt.getIndex(ssrc);
        if (i) advanceIndex(this.encrypt, ssrc, i.rtpIndex, next);
      }
    }
  }
}
