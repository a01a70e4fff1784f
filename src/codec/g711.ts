// G.711 (ITU-T G.711) encoding of 16-bit linear PCM samples: PCMU (mu-law) and PCMA (A-law), for generated audio.

/** Segment ends of the 13-bit (A-law) and 14-bit (mu-law) magnitudes: a value belongs to the first segment whose end
 * is not below it; beyond the last segment the code saturates. */
const A_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const U_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
/** mu-law adds a bias of 33 (in 14-bit units) so that every segment starts at a power of two. */
const U_BIAS = 0x21;
const U_CLIP = 8159;

function segment(v: number, ends: readonly number[]): number {
  for (let s = 0; s < ends.length; s++) if (v <= ends[s]!) return s;
  return ends.length;
}

/** Clamp to a signed 16-bit integer. */
function s16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : Math.trunc(x);
}

/** One sample as PCMU: sign, 3-bit segment, 4-bit step, all inverted on the wire. */
export function linearToUlaw(sample: number): number {
  let v = s16(sample) >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > U_CLIP) v = U_CLIP;
  v += U_BIAS;
  const seg = segment(v, U_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/** One sample as PCMA: sign, 3-bit segment, 4-bit step, even bits inverted on the wire (0x55). */
export function linearToAlaw(sample: number): number {
  let v = s16(sample) >> 3;
  let mask = 0xd5;
  if (v < 0) {
    v = -v - 1;
    mask = 0x55;
  }
  const seg = segment(v, A_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const step = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | step) ^ mask;
}
