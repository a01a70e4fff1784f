// SRTP negotiation in SDP: which a=crypto lines (SDES) and a=setup/a=fingerprint (DTLS) each side is given.
import type { CallFlags } from "./flags.ts";
import type { Media, PeerMedia } from "./model.ts";
import { isDtlsProto, isRtp, isSrtp } from "./peer.ts";
import { fingerprintValue, hashName } from "../crypto/dtls-sdp.ts";
import { dtlsTowardsOfferer, sdesTowardsOfferer, settledTowardsAnswerer } from "../crypto/secure-spec.ts";
import { CRYPTO_SUITES, cryptoLine, newKey, type SdesCrypto, sessionParams, suiteAllowed, suiteByName } from "../crypto/sdes-sdp.ts";
import type { MediaOut } from "../sdp/rewrite.ts";

/** SDES and DTLS attributes of an offer towards the answerer (media `mB`). */
export function offerCrypto(f: CallFlags, p: PeerMedia, mB: Media, proto: string, out: MediaOut): void {
  // OSRTP: crypto offered over plain RTP/AVP stays optional; converting SRTP to RTP drops it
  const osrtp = !isSrtp(proto) && isRtp(proto) && !isSrtp(p.proto) && (p.cryptos.length > 0 || f.osrtp.has("offer"));
  if (f.sdes.off) mB.sdesOff = true;
  // an answerer that chose DTLS gets no SDES of ours again,
  // one that chose SDES is not offered DTLS again
  const dtlsPeer = !!(mB.peer && isSrtp(mB.peer.proto) && mB.peer.fingerprint);
  const sdesPeer = !!(mB.peer && isSrtp(mB.peer.proto) && !mB.peer.fingerprint && mB.peer.cryptos.length > 0);
  // SDES is offered on every SRTP profile, UDP/TLS ones included (DTLS may still win)
  // (only when the offerer itself is plain RTP; `SDES: off` likewise keeps SDES for an SDES answerer)
  const offererSrtp = p.cryptos.length > 0 || p.fingerprint !== null;
  const sdes = (!mB.sdesOff || sdesPeer) && (!dtlsPeer || offererSrtp || mB.protoOverride !== null) && (isSrtp(proto) || osrtp);
  if (sdes) {
    const lines: SdesCrypto[] = [];
    // what the endpoint accepted before is offered again first, same tag and key
    const nego = mB.sdesNegotiated;
    if (nego && suiteAllowed(nego.suite, f.sdes) && !p.cryptos.some((c) => c.suite === nego.suite)) lines.push(nego);
    // the offerer's own suites pass through first (SRTP passthrough if the answerer picks one)
    const pass = p.cryptos.filter((c) => suiteAllowed(c.suite, f.sdes));
    mB.sdesPassthrough = pass;
    // re-encoded lines lose their lifetime, or get ours with `SDES: lifetime`
    const life = f.sdes.lifetime ? "|2^31" : "";
    for (const c of pass) if (!lines.some((x) => x.suite === c.suite)) lines.push({ ...c, key: f.sdes.pad ? c.key : c.key.replace(/=+$/, ""), keyTail: life + mkiOnly(c.keyTail), params: sessionParams(c.params, f.sdes.params) });
    let tag = lines.reduce((mx, c) => Math.max(mx, c.tag), 0);
    const old = new Map(mB.sdesOut.map((c) => [c.suite, c] as const));
    for (const s of CRYPTO_SUITES) {
      if (!suiteAllowed(s.name, f.sdes) || lines.some((c) => c.suite === s.name)) continue;
      const prev = old.get(s.name);
      lines.push({ tag: ++tag, suite: s.name, key: prev?.key ?? newKey(s, f.sdes.pad), keyTail: f.sdes.lifetime ? "|2^31" : "", params: sessionParams("", f.sdes.params) });
    }
    mB.sdesOut = lines.filter((c) => !pass.some((x) => x.tag === c.tag && x.suite === c.suite));
    out.crypto = lines.map(cryptoLine);
  }
  // `DTLS: off` does not take DTLS away from an answerer that already uses it
  // nor, while SDES is on offer, to one that answered with plain RTP
  const plainPeer = !!(mB.peer && isRtp(mB.peer.proto) && !isSrtp(mB.peer.proto));
  if ((f.dtls !== "off" || dtlsPeer) && !sdesPeer && !(plainPeer && out.crypto.length > 0) && (isSrtp(proto) || isDtlsProto(proto) || osrtp)) {
    out.setup = "actpass";
    const hash = (f.dtlsFingerprint && hashName(f.dtlsFingerprint)) ?? mB.dtlsFingerprintHash ?? "sha-256";
    mB.dtlsFingerprintHash = hash;
    out.fingerprint = fingerprintValue(hash);
  }
}

/** SDES or DTLS attributes of the answer back to the offerer (media `mA`); `dtlsPassive` is `--dtls-passive`. */
export function answerCrypto(f: CallFlags, p: PeerMedia, offered: PeerMedia, mA: Media, mB: Media, proto: string, out: MediaOut, dtlsPassive: boolean): void {
  // OSRTP: only an offerer that itself used optional SRTP (crypto over RTP/AVP) gets it back
  const osrtp = !isSrtp(proto) && !isSrtp(offered.proto) && offered.cryptos.length > 0 && (p.cryptos.length > 0 || f.osrtp.has("accept"));
  const srtp = isSrtp(proto) || isDtlsProto(proto);
  // media: what this answer settles for SRTP towards each side (read by src/media/secure.ts)
  mB.secure = settledTowardsAnswerer(p, mB);
  mA.secure = null;
  if (srtp && offered.fingerprint && f.dtls !== "off") {
    const rev = f.dtlsReverse !== "default" ? f.dtlsReverse : mA.dtlsReverse;
    const passive = rev === "passive" || (rev !== "active" && (f.dtls === "passive" || dtlsPassive));
    out.setup = offered.setup === "passive" ? "active" : offered.setup === "active" ? "passive" : passive ? "passive" : "active";
    const hash = hashName(offered.fingerprint.split(" ")[0] ?? "") ?? "sha-256";
    out.fingerprint = fingerprintValue(hash);
    mA.secure = dtlsTowardsOfferer(out.setup, offered); // media: our DTLS role towards the offerer
    return;
  }
  // an answer forcing RTP/SAVP(F) on an offerer that offered no SRTP repeats the SDES offer we made it
  // earlier (in a re-invite from the other side), if any; a forced UDP/TLS profile gets nothing
  const tp = f.transportProtocol;
  const forced = tp !== null && tp !== "accept" && isSrtp(tp) && !isDtlsProto(tp);
  if (forced && offered.cryptos.length === 0 && !offered.fingerprint && !isSrtp(offered.proto)) {
    if (!f.sdes.off && mA.sdesOut.length) out.crypto = mA.sdesOut.map(cryptoLine);
    return;
  }
  if (!(srtp || osrtp) || offered.cryptos.length === 0) return;
  // the answerer accepted one of the offerer's own suites: SRTP passes through unchanged
  const ans = p.cryptos[0];
  if (ans && mB.sdesPassthrough.some((c) => c.tag === ans.tag && c.suite === ans.suite)) {
    out.crypto = [cryptoLine({ ...ans, key: f.sdes.pad ? ans.key : ans.key.replace(/=+$/, ""), keyTail: mkiOnly(ans.keyTail) })];
    return;
  }
  const pick = offered.cryptos.find((c) => suiteAllowed(c.suite, f.sdes) && !mA.sdesNo.has(c.suite) && suiteByName(c.suite));
  if (!pick) return;
  const prev = mA.sdesOut.find((c) => c.suite === pick.suite && c.tag === pick.tag);
  // session parameters (UNENCRYPTED_SRTCP, ...) follow the offerer's choice
  const mine: SdesCrypto = prev ?? { tag: pick.tag, suite: pick.suite, key: newKey(suiteByName(pick.suite)!, f.sdes.pad), keyTail: f.sdes.lifetime ? "|2^31" : "", params: pick.params };
  mA.sdesOut = [mine];
  out.crypto = [cryptoLine(mine)];
  mA.secure = sdesTowardsOfferer(pick, mine); // media: the offerer's key in, ours out
}

/** Of a key's `|lifetime|MKI:len` tail only the MKI survives re-encoding (rtpengine drops the lifetime). */
function mkiOnly(tail: string): string {
  return tail
    .split("|")
    .filter((p) => p.includes(":"))
    .map((p) => `|${p}`)
    .join("");
}
