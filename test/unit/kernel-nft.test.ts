// --nftables-* (extension): option parsing and what src/kernel/nft.ts asks the shim for; the real netlink is tested in test/kernel (nft-e2e.sh).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { Config } from "../../src/config/index.ts";
import { installNftRule, removeNftRule, type NftConfig } from "../../src/kernel/nft.ts";

const BASE = ["-i", "127.0.0.1", "-n", "127.0.0.1:2223"];
const OPTS = { defaultConfigFile: join(tmpdir(), "rtpe-absent-nft.conf"), env: {} };

function load(argv: string[]): Config {
  const r = loadConfig([...BASE, ...argv], OPTS);
  if ("kind" in r) throw new Error(`unexpected ${r.kind}`);
  return r;
}

function fakeShim(setupRc: number, err = "") {
  const calls: { fn: string; chain: string; base: string; table?: number; flags: number }[] = [];
  const dec = new TextDecoder();
  const raw = {
    rtpe_nft_setup(c: Uint8Array, cl: number, b: Uint8Array, bl: number, table: number, flags: number, e: Uint8Array): number {
      calls.push({ fn: "setup", chain: dec.decode(c.subarray(0, cl)), base: dec.decode(b.subarray(0, bl)), table, flags });
      e.set(new TextEncoder().encode(err + "\0"));
      return setupRc;
    },
    rtpe_nft_teardown(c: Uint8Array, cl: number, b: Uint8Array, bl: number, flags: number): number {
      calls.push({ fn: "teardown", chain: dec.decode(c.subarray(0, cl)), base: dec.decode(b.subarray(0, bl)), flags });
      return 0;
    },
  };
  return { calls, shim: async () => raw as never };
}

function logger() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => void lines.push(`info ${m}`), warning: (m: string) => void lines.push(`warning ${m}`) } };
}

describe("nftables options", () => {
  test("off by default; base chain INPUT, both families", () => {
    const c = load([]);
    expect([c.nftablesChain, c.nftablesBaseChain, c.nftablesAppend, c.nftablesFamily]).toEqual([null, "INPUT", false, ["ip", "ip6"]]);
  });

  test("values, and names ffi/nft.c would refuse are refused here", () => {
    const c = load(["--nftables-chain=rtpengine", "--nftables-base-chain=", "--nftables-append", "--nftables-family=IP6"]);
    expect([c.nftablesChain, c.nftablesBaseChain, c.nftablesAppend, c.nftablesFamily]).toEqual(["rtpengine", "", true, ["ip6"]]);
    expect(() => load(["--nftables-chain="])).toThrow(ConfigError);
    expect(() => load(["--nftables-chain=a b"])).toThrow(ConfigError);
    expect(() => load(["--nftables-chain=" + "x".repeat(64)])).toThrow(ConfigError);
    expect(() => load(["--nftables-family=inet"])).toThrow(ConfigError);
  });
});

const CFG: NftConfig = {
  table: 3, noFallback: false, nftablesChain: "rtpengine", nftablesBaseChain: "INPUT", nftablesAppend: false, nftablesFamily: ["ip", "ip6"],
};

describe("installNftRule / removeNftRule", () => {
  test("nothing without --nftables-chain, nor without a kernel table", async () => {
    const f = fakeShim(0);
    const { log } = logger();
    expect(await installNftRule({ ...CFG, nftablesChain: null }, true, log, f.shim)).toEqual({ installed: null, fatal: null });
    expect((await installNftRule(CFG, false, log, f.shim)).installed).toBeNull();
    expect(f.calls).toEqual([]);
  });

  test("installs with the table id and family/append flags; teardown gets back what was created", async () => {
    const f = fakeShim(5);
    const { log, lines } = logger();
    const r = await installNftRule({ ...CFG, nftablesAppend: true, nftablesFamily: ["ip6"] }, true, log, f.shim);
    expect(f.calls[0]).toEqual({ fn: "setup", chain: "rtpengine", base: "INPUT", table: 3, flags: 0x2 | 0x4 });
    expect(r.installed).toEqual({ chain: "rtpengine", base: "INPUT", flags: 0x2, created: 5 });
    expect(lines[0]).toContain("xt target RTPENGINE --id 3");
    await removeNftRule(r.installed, log, f.shim);
    expect(f.calls[1]).toEqual({ fn: "teardown", chain: "rtpengine", base: "INPUT", flags: 0x2 | (5 << 8) });
    await removeNftRule(null, log, f.shim);
    expect(f.calls.length).toBe(2);
  });

  test("a failure is logged with the shim's reason, or fatal with --no-fallback", async () => {
    const f = fakeShim(-2, "install ip filter chain rtpengine: No such file or directory");
    const { log, lines } = logger();
    const r = await installNftRule(CFG, true, log, f.shim);
    expect(r).toEqual({ installed: null, fatal: null });
    expect(lines[0]).toStartWith("warning FAILED TO INSTALL nftables chain rtpengine");
    expect(lines[0]).toContain("No such file or directory");
    const nf = await installNftRule({ ...CFG, noFallback: true }, true, log, f.shim);
    expect(nf.fatal).toContain("--no-fallback");
    const broken = await installNftRule(CFG, true, log, async () => { throw new Error("librtpe_shim not loaded"); });
    expect(broken.installed).toBeNull();
    expect(lines.at(-1)).toContain("librtpe_shim not loaded");
  });
});
