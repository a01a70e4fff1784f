// Codec list manipulation for SDP: `codec` strip/mask/consume/except/offer/transcode on offers, answer filtering.
// No media is transcoded here; this only decides which payload types each side is told about.
import type { CodecOptions } from "../call/flags.ts";
import { type Codec, codecMatches } from "./codec.ts";
import { knownCodec, staticPtFor } from "./table.ts";

function isAll(spec: string): boolean {
  const s = spec.toLowerCase();
  return s === "all" || s === "full";
}

/** The first real (non telephone-event/CN) codec name of a spec like `opus/48000/2/...`. */
function specParts(spec: string): { name: string; clock: number | null; channels: number | null; fmtp: string | null } {
  const p = spec.split("/");
  const fmtp = p[4] ? p[4].replace(/--/g, "=") : null;
  return { name: p[0] ?? "", clock: p[1] ? Number(p[1]) || null : null, channels: p[2] ? Number(p[2]) || null : null, fmtp };
}

function freePt(used: Set<number>): number | null {
  for (let pt = 96; pt <= 127; pt++) if (!used.has(pt)) return pt;
  for (let pt = 35; pt <= 63; pt++) if (!used.has(pt)) return pt;
  return null;
}

/**
 * The codec list sent onward in an offer, from the offerer's list and the `codec` options.
 * Returns fresh codec objects; `added` marks the ones rtpengine introduced.
 */
export function offerCodecs(input: readonly Codec[], o: CodecOptions): Codec[] {
  const removeSpecs = [...o.strip, ...o.mask, ...o.consume];
  const removeAll = removeSpecs.some(isAll);
  const explicit = (c: Codec) => removeSpecs.some((s) => !isAll(s) && codecMatches(c, s));
  let out: Codec[] = [];
  const removed: { c: Codec; explicit: boolean }[] = [];
  for (const c0 of input) {
    const c = { ...c0, rtcpFb: [...c0.rtcpFb] };
    const ex = explicit(c);
    if (ex || removeAll) removed.push({ c, explicit: ex });
    else out.push(c);
  }
  const restore = (spec: string, allowExplicit: boolean): Codec[] => {
    const hits = removed.filter((r) => (allowExplicit || !r.explicit) && codecMatches(r.c, spec));
    for (const h of hits) removed.splice(removed.indexOf(h), 1);
    return hits.map((h) => h.c);
  };
  for (const spec of o.except) out.push(...restore(spec, false));
  // `offer` restores and moves to the front, in the order given
  const front: Codec[] = [];
  for (const spec of o.offer) {
    const inOut = out.filter((c) => codecMatches(c, spec));
    out = out.filter((c) => !inOut.includes(c));
    front.push(...inOut, ...restore(spec, true));
  }
  out = [...front, ...out];
  const toAdd: Codec[] = [];
  for (const spec of o.transcode) {
    if (out.some((c) => codecMatches(c, spec))) continue;
    const back = restore(spec, false);
    if (back.length) {
      out.push(...back);
      continue;
    }
    const p = specParts(spec);
    const def = knownCodec(p.name);
    if (!def) continue; // not a codec we could transcode (e.g. `t38`): ignored as rtpengine does
    toAdd.push({
      pt: -1,
      name: def.name,
      clockRate: p.clock ?? def.clockRate,
      channels: p.channels ?? def.channels,
      rtpmap: null,
      fmtp: p.fmtp ?? def.fmtp,
      rtcpFb: [],
      supplemental: def.supplemental,
      added: true,
    });
  }
  // telephone-event follows its real codecs: one per clock rate of the remaining real codecs
  const hadDtmf = input.some((c) => c.name.toLowerCase() === "telephone-event") || toAdd.some((c) => c.name === "telephone-event");
  const mains = () => [...out, ...toAdd].filter((c) => !c.supplemental);
  if (hadDtmf) {
    for (const m of toAdd.filter((c) => !c.supplemental)) {
      const clock = m.clockRate;
      const have = [...out, ...toAdd].some((c) => c.name.toLowerCase() === "telephone-event" && c.clockRate === clock);
      if (!have) toAdd.push({ pt: -1, name: "telephone-event", clockRate: clock, channels: 1, rtpmap: null, fmtp: "0-15", rtcpFb: [], supplemental: true, added: true });
    }
  }
  const used = new Set(out.map((c) => c.pt));
  for (const c of toAdd) {
    const st = staticPtFor(c.name, c.clockRate, c.channels);
    const pt = st !== null && !used.has(st) ? st : freePt(used);
    if (pt === null) continue;
    c.pt = pt;
    used.add(pt);
  }
  const added = toAdd.filter((c) => c.pt >= 0);
  const main = [...out.filter((c) => !c.supplemental), ...added.filter((c) => !c.supplemental)];
  const clocks = new Set(mains().map((c) => c.clockRate));
  const keepSupp = (c: Codec) => c.name.toLowerCase() !== "telephone-event" || clocks.has(c.clockRate);
  const supp = [...added.filter((c) => c.supplemental), ...out.filter((c) => c.supplemental)].filter(keepSupp);
  // with nothing added the offerer's order stays as it was (telephone-event may sit between real codecs)
  const result = added.length === 0 ? out.filter(keepSupp) : [...main, ...supp];
  // stripping everything leaves the original list in place (an offer with no codecs is invalid)
  if (result.length === 0) return input.map((c) => ({ ...c, rtcpFb: [...c.rtcpFb] }));
  return result;
}

export interface AnswerCodecOptions {
  singleCodec: boolean;
  /** offerer's codecs consumed by `codec-consume`: the offerer is answered with these */
  consumed: readonly Codec[];
  /** offerer's codecs accepted for transcoding (`codec-accept`, `always transcode`) */
  accepted: readonly Codec[];
}

/**
 * Codecs returned to the offerer: what the answerer accepted, mapped back onto the offerer's own codecs.
 * `offered` is what the offerer sent, `sent` what we offered onward (incl. added codecs).
 */
export function answerCodecs(answer: readonly Codec[], offered: readonly Codec[], sent: readonly Codec[], o: AnswerCodecOptions): Codec[] {
  const out: Codec[] = [];
  const has = (c: Codec) => out.some((x) => x.pt === c.pt);
  const copy = (c: Codec): Codec => ({ ...c, rtcpFb: [...c.rtcpFb] });
  let transcoding = false;
  for (const a of answer) {
    const own = offered.find((c) => c.pt === a.pt && (a.name === "" || c.name.toLowerCase() === a.name.toLowerCase()));
    if (own) {
      if (!has(a)) out.push({ ...a, rtpmap: a.rtpmap ?? own.rtpmap, name: a.name || own.name, rtcpFb: [...a.rtcpFb] });
      continue;
    }
    const ours = sent.find((c) => c.pt === a.pt && c.added);
    if (!ours) continue;
    transcoding = true;
    if (!ours.supplemental) {
      // answerer picked a codec we added: the offerer keeps talking its own preferred codec
      const sub = offered.find((c) => !c.supplemental && !has(c));
      if (sub) out.push(copy(sub));
    }
  }
  for (const c of o.consumed) if (!has(c)) out.unshift(copy(c));
  if (o.consumed.length) {
    for (let i = out.length - 1; i >= 0; i--) if (!out[i]!.supplemental && !o.consumed.some((c) => c.pt === out[i]!.pt)) out.splice(i, 1);
    transcoding = true;
  }
  for (const c of o.accepted) if (!has(c)) out.push(copy(c));
  if (o.accepted.length) transcoding = true;
  if (transcoding && answer.some((c) => c.name.toLowerCase() === "telephone-event")) {
    // the offerer's DTMF keeps working through the transcoder: keep its telephone-event for the chosen clock rates
    const clocks = new Set(out.filter((c) => !c.supplemental).map((c) => c.clockRate));
    for (const c of offered) if (c.name.toLowerCase() === "telephone-event" && clocks.has(c.clockRate) && !has(c)) out.push(copy(c));
  }
  let main = out.filter((c) => !c.supplemental);
  if (o.singleCodec) main = main.slice(0, 1);
  let supp = out.filter((c) => c.supplemental);
  if (o.singleCodec) supp = supp.filter((c) => c.name.toLowerCase() === "telephone-event");
  if (transcoding) {
    const clocks = new Set(main.map((c) => c.clockRate));
    supp = supp.filter((c) => c.name.toLowerCase() !== "telephone-event" || clocks.has(c.clockRate));
  }
  return transcoding || o.singleCodec ? [...main, ...supp] : out.filter((c) => main.includes(c) || supp.includes(c));
}

/** The offerer's codecs that match any of the specs (`all` matches everything). */
export function matchingCodecs(codecs: readonly Codec[], specs: readonly string[]): Codec[] {
  if (specs.some(isAll)) return [...codecs];
  return codecs.filter((c) => specs.some((s) => codecMatches(c, s)));
}
