// The forwarding-rule encoders against the C headers: offsets from a compiled program, not from our own constants.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { encodeKernelRule, encodeShimRule, KERNEL_RULE_MSG_SIZE, sameRule, type ForwardingRule } from "../../src/kernel/rule.ts";
import { decodeAddr } from "../../src/platform/shim-addr.ts";

const REPO = resolve(import.meta.dir, "../..");
// the shim and kernel headers both define struct rtpe_rule: one probe program each
const PRE = `#include <stddef.h>
#include <stdio.h>
#define P(name, v) printf("%s %zu\\n", name, (size_t)(v))
`;
const SHIM_PROBE = `${PRE}#include "rtpe_rule.h"
int main(void) {
  P("shim.size", sizeof(struct rtpe_rule));
  P("shim.local", offsetof(struct rtpe_rule, local));
  P("shim.output", offsetof(struct rtpe_rule, output));
  P("shim.expect_src", offsetof(struct rtpe_rule, expect_src));
  P("shim.dst", offsetof(struct rtpe_rule, dst));
  P("shim.tos", offsetof(struct rtpe_rule, tos));
  P("shim.src_mismatch", offsetof(struct rtpe_rule, src_mismatch));
  P("shim.flags", offsetof(struct rtpe_rule, flags));
  P("shim.RULE_RTP", RTPE_RULE_RTP);
  P("shim.RULE_SET_TOS", RTPE_RULE_SET_TOS);
  return 0;
}
`;
const KERNEL_PROBE = `${PRE}#include "rtpengine_uapi.h"
int main(void) {
  P("k.size", sizeof(struct rtpe_msg_rule));
  P("k.local", offsetof(struct rtpe_msg_rule, rule.local));
  P("k.expect_src", offsetof(struct rtpe_msg_rule, rule.expect_src));
  P("k.flags", offsetof(struct rtpe_msg_rule, rule.flags));
  P("k.out.src", offsetof(struct rtpe_msg_rule, rule.out.src));
  P("k.out.dst", offsetof(struct rtpe_msg_rule, rule.out.dst));
  P("k.out.tos", offsetof(struct rtpe_msg_rule, rule.out.tos));
  P("k.cookie", offsetof(struct rtpe_msg_rule, rule.cookie));
  return 0;
}
`;

const off: Record<string, number> = {};

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "rule-probe-"));
  for (const [name, src] of [["shim", SHIM_PROBE], ["kernel", KERNEL_PROBE]] as const) {
    writeFileSync(join(dir, `${name}.c`), src);
    const exe = join(dir, name);
    const cc = Bun.spawnSync(["cc", "-Wall", "-Werror", "-I", join(REPO, "ffi"), "-I", join(REPO, "kernel-module"), "-o", exe, join(dir, `${name}.c`)], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`probe does not compile:\n${cc.stderr.toString()}`);
    const out = Bun.spawnSync([exe]).stdout.toString();
    for (const l of out.trim().split("\n")) off[l.split(" ")[0]!] = Number(l.split(" ")[1]);
  }
});

const rule: ForwardingRule = {
  local: { handle: 7, local: { address: "127.0.0.1", port: 30000, family: 4 } },
  expectSrc: { address: "192.0.2.10", port: 4000, family: 4 },
  dropMismatch: true,
  outSrc: { handle: 9, local: { address: "::1", port: 30002, family: 6 } },
  outDst: { address: "2001:db8::5", port: 5000, family: 6 },
  tos: 184,
  payload: "rtp",
};

describe("forwarding rule encoding", () => {
  test("shim struct rtpe_rule", () => {
    const b = encodeShimRule(rule);
    const dv = new DataView(b.buffer);
    expect(b.byteLength).toBe(off["shim.size"]!);
    expect(dv.getInt32(off["shim.local"]!, true)).toBe(7);
    expect(dv.getInt32(off["shim.output"]!, true)).toBe(9);
    expect(decodeAddr(b, off["shim.expect_src"]!)).toEqual(rule.expectSrc);
    expect(decodeAddr(b, off["shim.dst"]!)).toEqual(rule.outDst);
    expect(b[off["shim.tos"]!]).toBe(184);
    expect(b[off["shim.src_mismatch"]!]).toBe(1);
  });

  test("shim flags: a plain rule forwards anything, an ICE port's rule (mediaOnly) only RTP so STUN reaches the agent", () => {
    const flags = (r: ForwardingRule) => new DataView(encodeShimRule(r).buffer).getUint16(off["shim.flags"]!, true);
    expect(flags(rule)).toBe(off["shim.RULE_SET_TOS"]!);
    expect(flags({ ...rule, mediaOnly: true })).toBe(off["shim.RULE_SET_TOS"]! | off["shim.RULE_RTP"]!);
    expect(sameRule(rule, { ...rule, mediaOnly: true })).toBe(false);
  });

  test("kernel struct rtpe_msg_rule", () => {
    const b = encodeKernelRule(rule, "add", 42n);
    const dv = new DataView(b.buffer);
    expect(KERNEL_RULE_MSG_SIZE).toBe(off["k.size"]!);
    expect(b.byteLength).toBe(off["k.size"]!);
    expect(dv.getUint32(0, true)).toBe(0x45505452);
    expect(dv.getUint32(8, true)).toBe(b.byteLength);
    expect(decodeAddr(b, off["k.local"]!)).toEqual(rule.local.local);
    expect(decodeAddr(b, off["k.expect_src"]!)).toEqual(rule.expectSrc);
    expect(dv.getUint32(off["k.flags"]!, true)).toBe(0x1 | 0x2); // EXPECT_SRC | RTP
    expect(decodeAddr(b, off["k.out.src"]!)).toEqual(rule.outSrc.local);
    expect(decodeAddr(b, off["k.out.dst"]!)).toEqual(rule.outDst);
    expect(b[off["k.out.tos"]!]).toBe(184);
    expect(dv.getBigUint64(off["k.cookie"]!, true)).toBe(42n);
  });

  test("sameRule sees every field", () => {
    expect(sameRule(rule, { ...rule })).toBe(true);
    expect(sameRule(rule, { ...rule, outDst: { ...rule.outDst, port: 5002 } })).toBe(false);
    expect(sameRule(rule, { ...rule, expectSrc: null })).toBe(false);
    expect(sameRule(rule, null)).toBe(false);
  });
});
