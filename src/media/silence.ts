// `silence media`: the payload of trivial audio codecs replaced by their encoding of silence.
import { payloadRange } from "./rtp.ts";

/** One byte that encodes silence, per codec name (upper case). G.722's is what its ADPCM encoder emits for a zero
 * signal at the minimum step sizes (low band code 58, high band code 3: 0xfa); other codecs are stateful or framed
 * and cannot be silenced by a fill pattern. */
const SILENCE_BYTE: Record<string, number> = { PCMU: 0xff, PCMA: 0xd5, G722: 0xfa };

/** True when packets of this codec can be silenced. */
export function canSilence(codec: string): boolean {
  return codec.toUpperCase() in SILENCE_BYTE;
}

/** Overwrite the payload of an RTP packet in place with silence; false when the codec or packet does not allow it. */
export function silencePayload(packet: Uint8Array, codec: string): boolean {
  const fill = SILENCE_BYTE[codec.toUpperCase()];
  const r = payloadRange(packet);
  if (fill === undefined || !r) return false;
  packet.fill(fill, r.start, r.end);
  return true;
}
