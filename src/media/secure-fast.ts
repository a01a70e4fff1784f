// SRTP in the shim fast path: which keys a forwarding rule needs, the rule's own SRTP contexts (a context serves one thread), index handover, freeing after withdrawal.
//
//   const plan = srtpPlan(secure, from, fromPort1, to, toPort1)   null = keys not settled (stay in TypeScript)
//   const rs = RuleSrtp.make(plan, ssrcs)     (ssrcs: the stream's live SSRC set) fresh contexts with the same keys, ROC/SRTCP index copied from TypeScript's
//   rule.srtp = { key: plan.key, decrypt: rs.decryptPtr, encrypt: rs.encryptPtr, mux }
//   ... rtpe_rule_del / replacing rtpe_rule_add / socket closed (the shim thread no longer uses them) ...
//   rs.release()                              indices back to TypeScript's contexts, then free
import type { Media } from "../call/model.ts";
import { fileURLToPath } from "node:url";
import type { SrtpContext } from "../crypto/srtp.ts"; // (types only: this module loads under Deno too, srtp.ts needs bun:ffi)
import { sourceShimPath } from "../platform/ffi.ts";
import type { SecureContexts, SecureMedia } from "./secure.ts";

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

/** The SRTP contexts one rule owns. */
export class RuleSrtp {
  private constructor(
    readonly plan: SrtpPlan,
    readonly decrypt: SrtpContext | null,
    readonly encrypt: SrtpContext | null,
    private readonly ssrcs: ReadonlySet<number>,
  ) {}

  /** Fresh contexts with the plan's keys; the rollover counters and SRTCP indices of known SSRCs continue TypeScript's. Throws when a context cannot be made. */
  static make(plan: SrtpPlan, ssrcs: ReadonlySet<number>): RuleSrtp {
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
    const list = [...this.ssrcs];
    try {
      if (this.decrypt && this.plan.from) copyIndex(this.decrypt, this.plan.from.inbound, list);
      if (this.encrypt && this.plan.to) copyIndex(this.encrypt, this.plan.to.outbound, list);
    } catch {
      /* TypeScript's contexts are gone already (new keys, the call ended): nothing to continue */
    }
    this.decrypt?.free();
    this.encrypt?.free();
  }
}
