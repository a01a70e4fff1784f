// Port bookkeeping: even RTP + odd RTCP, same port on every address, exhaustion, release.
import { describe, expect, test } from "bun:test";
import { BookingPortAllocator } from "../../src/media/ports.ts";

describe("BookingPortAllocator", () => {
  test("even base port, consecutive pair, same on all addresses", () => {
    const p = new BookingPortAllocator(30001, 30010);
    const a = p.reserve(["192.0.2.1", "2001:db8::1"], 2)!;
    expect(a % 2).toBe(0);
    expect(a).toBeGreaterThanOrEqual(30002);
    expect(p.inUse("192.0.2.1")).toBe(2);
    expect(p.inUse("2001:db8::1")).toBe(2);
  });

  test("exhaustion returns null, release makes ports available again", () => {
    const p = new BookingPortAllocator(30000, 30007);
    const got = [p.reserve(["a"], 2), p.reserve(["a"], 2), p.reserve(["a"], 2), p.reserve(["a"], 2)];
    expect(new Set(got).size).toBe(4);
    expect(p.reserve(["a"], 2)).toBeNull();
    p.release(["a"], got[1]!, 2);
    expect(p.reserve(["a"], 2)).toBe(got[1]!);
    expect(p.inUse("a")).toBe(8);
  });

  test("a port taken on one address is skipped for a group containing it", () => {
    const p = new BookingPortAllocator(30000, 30005);
    const x = p.reserve(["a"], 2)!;
    const y = p.reserve(["a", "b"], 2)!;
    expect(y).not.toBe(x);
  });
});
