// Minimal, bounds-checked RTP/RTCP/STUN header reading for the slow path (RFC 3550, RFC 5761, RFC 5389).

/** RTP version 2 with a complete fixed header. */
export function isRtp(b: Uint8Array): boolean {
  return b.length >= 12 && b[0]! >> 6 === 2;
}

/** RTCP on an rtcp-mux port: payload types 64..95 after the marker bit (RTCP PT 192..223), RFC 5761 section 4. */
export function isRtcp(b: Uint8Array): boolean {
  if (b.length < 8 || b[0]! >> 6 !== 2) return false;
  const pt = b[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/** STUN: first two bits zero and the magic cookie. */
export function isStun(b: Uint8Array): boolean {
  return b.length >= 20 && b[0]! >> 6 === 0 && b[4] === 0x21 && b[5] === 0x12 && b[6] === 0xa4 && b[7] === 0x42;
}

export function payloadType(b: Uint8Array): number {
  return b[1]! & 0x7f;
}

export function rtpTimestamp(b: Uint8Array): number {
  return ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}

export function ssrc(b: Uint8Array): number {
  return ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
}

/** Where the payload starts and ends (CSRCs, header extension and padding skipped), or null if malformed. */
export function payloadRange(b: Uint8Array): { start: number; end: number } | null {
  if (!isRtp(b)) return null;
  let start = 12 + 4 * (b[0]! & 0x0f);
  if (b[0]! & 0x10) {
    if (start + 4 > b.length) return null;
    start += 4 + 4 * ((b[start + 2]! << 8) | b[start + 3]!);
  }
  let end = b.length;
  if (b[0]! & 0x20) {
    if (end === 0) return null;
    end -= b[end - 1]!;
  }
  if (start > end) return null;
  return { start, end };
}
