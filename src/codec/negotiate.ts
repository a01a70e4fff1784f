// Codec list manipulation for SDP: `codec` strip/mask/consume/except/offer/transcode on offers, answer filtering.
// No media is transcoded here; this only decides which payload types each side is told about.
import type { CodecOptions } from "../call/flags.ts";
import { type Codec, codecMatches } from "./codec.ts";
import { isTranscodable, knownCodec, staticPtFor } from "./table.ts";

function isAll(spec: string): boolean {
  const s = spec.toLowerCase();
  return s === "all" || s === "full";
}

/** The fields of a codec spec from a flag, e.g. `opus/48000/2` or `iLBC/8000/1///mode--30`. */
function specParts(spec: string): { name: string; clock: number | null; channels: number | null; fmtp: string | null } {
  const p = spec.split("/");
  // NAME/CLOCK/CHANNELS/BITRATE/PTIME/FMTP (e.g. `iLBC/8000/1///mode=30`); `--` stands for `=`
  const fmtp = p[5] ? p[5].replace(/--/g, "=") : null;
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
  // `except` and `offer` bring back what strip/mask took away (10.5 does not reorder for `offer`)
  for (const spec of o.except) out.push(...restore(spec, false));
  for (const spec of o.offer) out.push(...restore(spec, true));
  const inputOrder = (c: Codec) => input.findIndex((x) => x.pt === c.pt);
  out.sort((a, b) => inputOrder(a) - inputOrder(b));
  const toAdd: Codec[] = [];
  for (const spec of o.transcode) {
    if (out.some((c) => codecMatches(c, spec)) || toAdd.some((c) => codecMatches(c, spec))) continue;
    const back = restore(spec, false);
    if (back.length) {
      out.push(...back);
      continue;
    }
    const p = specParts(spec);
    const def = knownCodec(p.name);
    if (!def || !isTranscodable(def.name)) continue; // e.g. `t38`, or a codec we cannot encode: ignored
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
  // stripping everything leaves the original list in place (an offer with no codecs is invalid);
  // the check comes before telephone-event loses its codec, which may still leave nothing (as in 10.5)
  if (out.length === 0 && toAdd.length === 0) return input.map((c) => ({ ...c, rtcpFb: [...c.rtcpFb] }));
  return toAdd.length === 0 ? plainResult(out) : transcodedResult(input, out, toAdd);
}

const isDtmf = (c: Codec) => c.name.toLowerCase() === "telephone-event";

/** Without additions the offerer's order stays (telephone-event may sit between real codecs). */
function plainResult(out: Codec[]): Codec[] {
  const clocks = new Set(out.filter((c) => !c.supplemental).map((c) => c.clockRate));
  return out.filter((c) => !isDtmf(c) || clocks.has(c.clockRate));
}

/**
 * With codecs added the transcoder is engaged: codecs it cannot encode are dropped, and
 * telephone-event is offered for every clock rate in use so DTMF survives the translation.
 */
function transcodedResult(input: readonly Codec[], kept: Codec[], toAdd: Codec[]): Codec[] {
  // payload types stay reserved for what we keep and for codecs the transcoder drops; masked ones are free again
  const used = new Set([...kept.map((c) => c.pt), ...input.filter((c) => !isTranscodable(c.name)).map((c) => c.pt)]);
  const alloc = (c: Codec): boolean => {
    const st = staticPtFor(c.name, c.clockRate, c.channels);
    const pt = st !== null && !used.has(st) ? st : freePt(used);
    if (pt === null) return false;
    c.pt = pt;
    used.add(pt);
    return true;
  };
  const addedMain = toAdd.filter((c) => !c.supplemental && alloc(c));
  const requestedSupp = toAdd.filter((c) => c.supplemental && alloc(c));
  const mains = [...kept.filter((c) => !c.supplemental), ...addedMain];
  const generated: Codec[] = [];
  const dtmfWanted = kept.some(isDtmf) || requestedSupp.some(isDtmf) || input.some(isDtmf);
  if (dtmfWanted) {
    const have = new Set([...kept, ...requestedSupp].filter(isDtmf).map((c) => c.clockRate));
    // an explicit `transcode=telephone-event` covers every clock rate, otherwise only the added codecs
    const cover = requestedSupp.some(isDtmf) ? mains : addedMain;
    for (const m of [...cover].reverse()) {
      if (have.has(m.clockRate)) continue;
      have.add(m.clockRate);
      const te: Codec = { pt: -1, name: "telephone-event", clockRate: m.clockRate, channels: 1, rtpmap: null, fmtp: "0-15", rtcpFb: [], supplemental: true, added: true };
      if (alloc(te)) generated.push(te);
    }
  }
  const keptMains = mains.filter((c) => c.added || isTranscodable(c.name));
  const clocks = new Set(keptMains.map((c) => c.clockRate));
  const suppOk = (c: Codec) => !isDtmf(c) || clocks.has(c.clockRate);
  return [...keptMains, ...generated.filter(suppOk), ...kept.filter((c) => c.supplemental && suppOk(c)), ...requestedSupp.filter(suppOk)];
}

export interface AnswerCodecOptions {
  singleCodec: boolean;
  /** offerer's codecs consumed by `codec-consume`: the offerer is answered with these */
  consumed: readonly Codec[];
  /** offerer's codecs accepted for transcoding by name (`codec-accept=X`) */
  accepted: readonly Codec[];
  /** `codec-accept=all` / `always transcode` */
  acceptAll: boolean;
  /** offerer's codecs hidden from the answerer by `mask`: still acceptable in the answer */
  masked: readonly Codec[];
  /** the offer's codec list was filtered (strip/mask/except/offer): telephone-event and CN go last */
  filtered: boolean;
}

/**
 * Codecs returned to the offerer: what the answerer accepted (of what we offered it), mapped back
 * onto the offerer's own codecs. `offered` is what the offerer sent, `sent` what we offered onward.
 */
export function answerCodecs(answer: readonly Codec[], offered: readonly Codec[], sent: readonly Codec[], o: AnswerCodecOptions): Codec[] {
  const copy = (c: Codec): Codec => ({ ...c, rtcpFb: [...c.rtcpFb] });
  const sentPts = new Set(sent.map((c) => c.pt));
  // payload types we never offered the answerer do not count (unless we offered it nothing at all)
  let valid = sent.length ? answer.filter((a) => sentPts.has(a.pt)) : [...answer];
  if (sent.length && !valid.some((c) => !c.supplemental)) {
    // a codec we masked is taken only when nothing we offered was
    const maskedPts = new Set(o.masked.map((c) => c.pt));
    valid = answer.filter((a) => sentPts.has(a.pt) || maskedPts.has(a.pt));
  }
  if (sent.length && valid.length === 0) {
    // an answer naming none of our codecs: the first one we offered stands
    const first = sent.find((c) => !c.supplemental && !c.added);
    valid = first ? [first, ...valid] : valid;
  }
  const answeredDtmf = valid.some(isDtmf);
  const offeredMains = offered.filter((c) => !c.supplemental);
  const dtmfFor = (mains: Codec[]) => {
    const clocks = new Set(mains.map((c) => c.clockRate));
    return offered.filter((c) => isDtmf(c) && clocks.has(c.clockRate)).map(copy);
  };
  if (o.acceptAll && offeredMains.length) {
    // the offerer is answered with its own first codec (plus its DTMF and CN), whatever the answerer picked
    const main = [copy(offeredMains[0]!)];
    return [...main, ...offered.filter((c) => c.supplemental && !isDtmf(c)).map(copy), ...dtmfFor(main)];
  }
  const preset = o.consumed.length ? o.consumed : o.accepted;
  if (preset.length) {
    const main = preset.filter((c) => !c.supplemental).map(copy);
    const mains = o.singleCodec ? main.slice(0, 1) : main;
    const cn = offered.filter((c) => c.supplemental && !isDtmf(c) && valid.some((a) => a.pt === c.pt)).map(copy);
    return [...mains, ...cn, ...(answeredDtmf ? dtmfFor(mains) : [])];
  }
  const ownOf = (a: Codec) => offered.find((c) => c.pt === a.pt && (a.name === "" || c.name.toLowerCase() === a.name.toLowerCase()));
  const out: Codec[] = [];
  const has = (c: Codec) => out.some((x) => x.pt === c.pt);
  // codecs go back as the answerer wrote them, except telephone-event/CN of a filtered list (the offerer's own)
  const passthrough = (a: Codec, own: Codec): Codec =>
    o.filtered && a.supplemental ? copy(own) : { ...a, rtpmap: a.rtpmap ?? own.rtpmap, name: a.name || own.name, rtcpFb: [...a.rtcpFb] };
  let transcoding = false;
  for (const a of valid) {
    if (a.supplemental) continue;
    const own = ownOf(a);
    if (own) {
      if (!has(a)) out.push(passthrough(a, own));
      continue;
    }
    const ours = sent.find((c) => c.pt === a.pt && c.added);
    if (!ours) continue;
    // answerer picked a codec we added: the offerer keeps talking its own preferred codec
    transcoding = true;
    const sub = offered.find((c) => !c.supplemental && !has(c) && isTranscodable(c.name));
    if (sub) out.push(copy(sub));
  }
  if (!transcoding && !o.singleCodec) {
    // plain passthrough keeps the answerer's order, supplementary codecs included
    const list: Codec[] = [];
    for (const a of valid) {
      const own = ownOf(a);
      if (own && !list.some((x) => x.pt === a.pt)) list.push(passthrough(a, own));
    }
    // without a real codec there is nothing to answer with, unless the list was passed through as is
    if (!list.some((c) => !c.supplemental)) return o.filtered ? [] : list;
    return o.filtered ? [...list.filter((c) => !c.supplemental), ...list.filter((c) => c.supplemental)] : list;
  }
  const main = o.singleCodec ? out.slice(0, 1) : out;
  const clocks = new Set(main.map((c) => c.clockRate));
  const supp: Codec[] = [];
  if (!transcoding) {
    for (const a of valid) {
      const own = a.supplemental ? ownOf(a) : undefined;
      if (own && !supp.some((x) => x.pt === a.pt) && isDtmf(a)) supp.push(passthrough(a, own));
    }
  } else {
    // DTMF goes through the transcoder only if the answerer's telephone-event fits its own codec
    const answerClocks = new Set(valid.filter((c) => !c.supplemental).map((c) => c.clockRate));
    const dtmfOk = valid.some((c) => isDtmf(c) && answerClocks.has(c.clockRate));
    for (const c of offered) {
      if (!c.supplemental) continue;
      const want = isDtmf(c) ? dtmfOk && clocks.has(c.clockRate) : !o.singleCodec && valid.some((a) => a.pt === c.pt);
      if (want) supp.push(copy(c));
    }
  }
  return [...main, ...supp];
}

/** The offerer's codecs that match any of the specs (`all` matches everything). */
export function matchingCodecs(codecs: readonly Codec[], specs: readonly string[]): Codec[] {
  if (specs.some(isAll)) return [...codecs];
  return codecs.filter((c) => specs.some((s) => codecMatches(c, s)));
}
