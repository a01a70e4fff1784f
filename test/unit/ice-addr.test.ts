// ICE address helpers: canonical IP text, so SDP candidates and packet sources compare equal.
import { expect, test } from "bun:test";
import { bytesToIp, canonicalIp, ipFamily, ipToBytes } from "../../src/ice/addr.ts";

test("canonical text: RFC 5952 for IPv6, IPv4-mapped folded to IPv4", () => {
  expect(canonicalIp("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1");
  expect(canonicalIp("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
  expect(canonicalIp("::")).toBe("::");
  expect(canonicalIp("::1")).toBe("::1");
  expect(canonicalIp("fe80::1%eth0")).toBe("fe80::1");
  expect(canonicalIp("::ffff:127.0.0.1")).toBe("127.0.0.1");
  expect(canonicalIp("::ffff:7f00:2")).toBe("127.0.0.2");
  expect(canonicalIp("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2:3:4:5:6");
  expect(canonicalIp("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
  expect(canonicalIp("not an ip")).toBe("not an ip");
  expect(ipToBytes("1.2.3")).toBeNull();
  expect(bytesToIp(Uint8Array.of(192, 0, 2, 1))).toBe("192.0.2.1");
  expect([ipFamily("10.0.0.1"), ipFamily("::1"), ipFamily("host.example")]).toEqual([4, 6, 0]);
});
