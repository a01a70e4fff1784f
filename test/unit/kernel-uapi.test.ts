// src/kernel/rule-kernel.ts against kernel-module/rtpengine_uapi.h: sizes and offsets from a compiled probe, blist decoding.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  BLIST, BLIST_ENTRY_SIZE, decodeBlist, encodeKernelDel, encodeKernelFlush, encodeKernelRule, KERNEL_DEL_MSG_SIZE, KERNEL_HDR_SIZE, KERNEL_RULE_MSG_SIZE,
} from "../../src/kernel/rule-kernel.ts";
import type { ForwardingRule } from "../../src/kernel/rule.ts";
import { decodeAddr, encodeAddr } from "../../src/platform/shim-addr.ts";
import { missing } from "../helpers/requires.ts";

const REPO = resolve(import.meta.dir, "../..");
const PROBE = `#include <stddef.h>
#include <stdio.h>
#include "rtpengine_uapi.h"
#define P(name, v) printf("%s %zu\\n", name, (size_t)(v))
int main(void) {
  P("hdr", sizeof(struct rtpe_msg_hdr));
  P("hdr.cmd", offsetof(struct rtpe_msg_hdr, cmd));
  P("hdr.len", offsetof(struct rtpe_msg_hdr, len));
  P("rule_msg", sizeof(struct rtpe_msg_rule));
  P("del", sizeof(struct rtpe_msg_del));
  P("del.local", offsetof(struct rtpe_msg_del, local));
  P("blist", sizeof(struct rtpe_blist_entry));
  P("blist.local", offsetof(struct rtpe_blist_entry, rule.local));
  P("blist.cookie", offsetof(struct rtpe_blist_entry, rule.cookie));
  P("blist.stats", offsetof(struct rtpe_blist_entry, stats));
  P("blist.stats.errors", offsetof(struct rtpe_blist_entry, stats.errors));
  P("blist.stats.auth_failed", offsetof(struct rtpe_blist_entry, stats.auth_failed));
  P("blist.stats.to_user", offsetof(struct rtpe_blist_entry, stats.to_user));
  P("blist.stats.last_ms", offsetof(struct rtpe_blist_entry, stats.last_ms));
  P("blist.ssrc", offsetof(struct rtpe_blist_entry, ssrc));
  P("ssrc", sizeof(struct rtpe_ssrc_stats));
  P("ssrc.flags", offsetof(struct rtpe_ssrc_stats, flags));
  P("ssrc.packets", offsetof(struct rtpe_ssrc_stats, packets));
  P("ssrc.bytes", offsetof(struct rtpe_ssrc_stats, bytes));
  P("ssrc.last_seq", offsetof(struct rtpe_ssrc_stats, last_seq));
  P("ssrc.roc_in", offsetof(struct rtpe_ssrc_stats, roc_in));
  P("ssrc.roc_out", offsetof(struct rtpe_ssrc_stats, roc_out));
  P("blist.rtcp_index", offsetof(struct rtpe_blist_entry, rule.out.encrypt.rtcp_index));
  P("magic", RTPE_MSG_MAGIC);
  P("version", RTPE_UAPI_VERSION);
  P("cmd.add", RTPE_CMD_ADD);
  P("cmd.update", RTPE_CMD_UPDATE);
  P("cmd.del", RTPE_CMD_DEL);
  P("cmd.flush", RTPE_CMD_FLUSH);
  return 0;
}
`;

const off: Record<string, number> = {};
const hasCc = !missing(Bun.spawnSync(["sh", "-c", "command -v cc"]).exitCode !== 0, "kernel-uapi: no cc to compile the header probe");

beforeAll(() => {
  if (!hasCc) return;
  const dir = mkdtempSync(join(tmpdir(), "uapi-probe-"));
  try {
    writeFileSync(join(dir, "p.c"), PROBE);
    const cc = Bun.spawnSync(["cc", "-Wall", "-Werror", "-I", join(REPO, "kernel-module"), "-o", join(dir, "p"), join(dir, "p.c")], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`probe does not compile:\n${cc.stderr.toString()}`);
    for (const l of Bun.spawnSync([join(dir, "p")]).stdout.toString().trim().split("\n")) off[l.split(" ")[0]!] = Number(l.split(" ")[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const hdr = (b: Uint8Array) => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { magic: dv.getUint32(0, true), version: dv.getUint16(4, true), cmd: dv.getUint16(off["hdr.cmd"]!, true), len: dv.getUint32(off["hdr.len"]!, true), reserved: dv.getUint32(12, true) };
};

describe.skipIf(!hasCc)("kernel uapi messages (compiled header probe; skipped when there is no cc)", () => {
  test("sizes match the header", () => {
    expect(KERNEL_HDR_SIZE).toBe(off["hdr"]!);
    expect(KERNEL_RULE_MSG_SIZE).toBe(off["rule_msg"]!);
    expect(KERNEL_DEL_MSG_SIZE).toBe(off["del"]!);
    expect(BLIST_ENTRY_SIZE).toBe(off["blist"]!);
    expect<number>(BLIST.ssrcSize).toBe(off["ssrc"]!);
    expect<number[]>([BLIST.local, BLIST.cookie, BLIST.stats, BLIST.ssrc]).toEqual([off["blist.local"]!, off["blist.cookie"]!, off["blist.stats"]!, off["blist.ssrc"]!]);
  });

  test("add, update, delete and flush headers", () => {
    const rule: ForwardingRule = {
      local: { handle: 1, local: { address: "::1", port: 30002, family: 6 } }, expectSrc: null, dropMismatch: false,
      outSrc: { handle: 2, local: { address: "127.0.0.1", port: 30004, family: 4 } }, outDst: { address: "127.0.0.1", port: 5000, family: 4 },
      tos: null, payload: "rtcp",
    };
    const want = (cmd: number, len: number) => ({ magic: off["magic"]!, version: off["version"]!, cmd, len, reserved: 0 });
    expect(hdr(encodeKernelRule(rule, "add"))).toEqual(want(off["cmd.add"]!, off["rule_msg"]!));
    expect(hdr(encodeKernelRule(rule, "update"))).toEqual(want(off["cmd.update"]!, off["rule_msg"]!));
    const del = encodeKernelDel(rule.local.local);
    expect(hdr(del)).toEqual(want(off["cmd.del"]!, off["del"]!));
    expect(decodeAddr(del, off["del.local"]!)).toEqual(rule.local.local);
    expect([...del.subarray(off["del.local"]! + 20)]).toEqual([0, 0, 0, 0]); // explicit padding is zero
    expect(hdr(encodeKernelFlush())).toEqual(want(off["cmd.flush"]!, off["hdr"]!));
  });

  test("blist records decode at the header's offsets", () => {
    const buf = new Uint8Array(off["blist"]! * 2 + 100); // a partial third record is ignored
    const dv = new DataView(buf.buffer);
    const put = (i: number, port: number, packets: number) => {
      const o = i * off["blist"]!;
      encodeAddr(buf, o + off["blist.local"]!, "127.0.0.1", port);
      dv.setBigUint64(o + off["blist.cookie"]!, BigInt(port * 10), true);
      dv.setBigUint64(o + off["blist.stats"]!, BigInt(packets), true);
      dv.setBigUint64(o + off["blist.stats"]! + 8, BigInt(packets * 172), true);
      dv.setBigUint64(o + off["blist.stats.errors"]!, 3n, true);
      dv.setBigUint64(o + off["blist.stats.auth_failed"]!, 4n, true);
      dv.setBigUint64(o + off["blist.stats.to_user"]!, 5n, true);
      dv.setBigUint64(o + off["blist.stats.last_ms"]!, 1700000000123n, true);
      const s = o + off["blist.ssrc"]! + off["ssrc"]!; // second slot used, first free
      dv.setUint32(s, 0xdeadbeef, true);
      dv.setUint32(s + off["ssrc.flags"]!, 1, true);
      dv.setBigUint64(s + off["ssrc.packets"]!, BigInt(packets), true);
      dv.setBigUint64(s + off["ssrc.bytes"]!, 99n, true);
      dv.setUint32(s + off["ssrc.last_seq"]!, 65534, true);
      dv.setUint32(s + off["ssrc.roc_in"]!, 7, true);
      dv.setUint32(s + off["ssrc.roc_out"]!, 9, true);
      dv.setUint32(o + off["blist.rtcp_index"]!, 4242, true);
    };
    put(0, 30000, 7);
    put(1, 30002, 1 << 20);
    const e = decodeBlist(buf);
    expect(e.length).toBe(2);
    expect(e[1]).toEqual({
      local: { address: "127.0.0.1", port: 30002, family: 4 }, cookie: 300020n,
      stats: { packets: 1 << 20, bytes: (1 << 20) * 172, errors: 3, authFailed: 4, toUser: 5, lastMs: 1700000000123 },
      ssrcs: [{ ssrc: 0xdeadbeef, packets: 1 << 20, bytes: 99, lastSeq: 65534, rocIn: 7, rocOut: 9 }],
      rtcpIndex: 4242,
    });
    expect(e[0]!.stats.packets).toBe(7);
  });
});
