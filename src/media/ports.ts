// Port bookkeeping: RTP on an even port, RTCP on the next odd one, per local address, never leaked.
// The PortAllocator interface is the seam the media engineer backs with real shim sockets.

export interface PortAllocator {
  /**
   * Reserve `count` consecutive ports starting at an even port, the same number on every given local
   * address (so that all candidates of one stream share a port). Returns the base port or null when exhausted.
   */
  reserve(addresses: readonly string[], count: number): number | null;
  /** Give back ports reserved by reserve(). Unknown ports are ignored. */
  release(addresses: readonly string[], base: number, count: number): void;
  /** Ports currently held on one address (for statistics and tests). */
  inUse(address: string): number;
}

/** Books ports in memory, without binding sockets. */
export class BookingPortAllocator implements PortAllocator {
  private readonly used = new Map<string, Set<number>>();
  private cursor: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    if (min > max) throw new Error(`port range ${min}-${max} is empty`);
    this.cursor = min + (min % 2);
  }

  private set(addr: string): Set<number> {
    let s = this.used.get(addr);
    if (!s) {
      s = new Set();
      this.used.set(addr, s);
    }
    return s;
  }

  reserve(addresses: readonly string[], count: number): number | null {
    const first = this.min + (this.min % 2);
    const span = this.max - first + 1;
    if (span < count) return null;
    const sets = addresses.map((a) => this.set(a));
    // round-robin from the cursor, like rtpengine, so that freed ports are not reused at once
    const steps = Math.ceil(span / 2);
    let p = this.cursor;
    for (let i = 0; i < steps; i++) {
      if (p + count - 1 > this.max) p = first;
      let free = true;
      for (const s of sets) {
        for (let k = 0; k < count; k++) if (s.has(p + k)) free = false;
        if (!free) break;
      }
      if (free) {
        for (const s of sets) for (let k = 0; k < count; k++) s.add(p + k);
        this.cursor = p + 2;
        return p;
      }
      p += 2;
    }
    return null;
  }

  release(addresses: readonly string[], base: number, count: number): void {
    for (const a of addresses) {
      const s = this.used.get(a);
      if (!s) continue;
      for (let k = 0; k < count; k++) s.delete(base + k);
    }
  }

  inUse(address: string): number {
    return this.used.get(address)?.size ?? 0;
  }
}
