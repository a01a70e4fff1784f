// ffi/build.sh: cross builds, the cc fallback, and SRTP/DTLS components compiled into the shim.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { missing } from "../helpers/requires.ts";

const root = resolve(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "rtpe-shim-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function build(name: string, env: Record<string, string>, args: string[] = []): { code: number | null; out: string; lib: string } {
  const out = join(work, name);
  const r = spawnSync("sh", [join(root, "ffi/build.sh"), ...args], { env: { ...process.env, OUT: out, ...env }, encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, lib: join(out, "librtpe_shim.so") };
}

/** e_machine of an ELF file: 62 = x86-64, 183 = aarch64. */
function elfMachine(path: string): number {
  const b = readFileSync(path);
  expect([...b.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  return b.readUInt16LE(18);
}

function exported(path: string): string[] {
  const r = spawnSync("nm", ["-D", "--defined-only", path], { encoding: "utf8" });
  return r.stdout.split("\n").map((l) => l.split(" ")[2] ?? "").filter(Boolean);
}

const hasCc = !missing(spawnSync("cc", ["--version"]).status !== 0, "shim-build: no cc for the ZIG=none fallback");
const hasNm = !missing(spawnSync("nm", ["--version"]).status !== 0, "shim-build: no nm to list the library's symbols");

describe("ffi/build.sh", () => {
  test("aarch64 cross build with zig", () => {
    const r = build("arm", {}, ["aarch64"]);
    expect(r).toMatchObject({ code: 0 });
    expect(elfMachine(r.lib)).toBe(183);
  }, 120_000);

  test.skipIf(!hasCc)("ZIG=none falls back to cc (skipped: no cc)", () => {
    const r = build("cc", { ZIG: "none" });
    expect(r).toMatchObject({ code: 0 });
    expect(elfMachine(r.lib)).toBe(62);
  }, 120_000);

  test("an unknown architecture or component is refused", () => {
    expect(build("bad", {}, ["mips"]).code).toBe(2);
    expect(build("bad", { RTPE_SHIM_WITH: "nonexistent" }).code).toBe(2);
  });

  const comps = ["srtp", "dtls"];
  test.skipIf(!hasNm)(
    "RTPE_SHIM_WITH compiles the crypto components in; the library still passes the self-test (skipped when nm is missing)",
    () => {
      const r = build("with", { RTPE_SHIM_WITH: comps.join(" ") });
      expect(r).toMatchObject({ code: 0 });
      const syms = exported(r.lib);
      expect(syms).toContain("rtpe_poll");
      for (const c of comps) expect(syms.some((s) => s.startsWith(`rtpe_${c}_`))).toBe(true);
      // nothing but the rtpe_* API leaks out of the library
      expect(syms.filter((s) => !s.startsWith("rtpe_"))).toEqual([]);
      const entry = join(work, "entry.ts");
      writeFileSync(entry, `import { runShimSelfTest } from ${JSON.stringify(join(root, "src/platform/selftest.ts"))};\nprocess.exit(await runShimSelfTest());\n`);
      const t = spawnSync(process.execPath, [entry], { env: { ...process.env, RTPE_SHIM_PATH: r.lib }, encoding: "utf8", timeout: 60_000 });
      expect({ code: t.status, out: t.stderr }).toMatchObject({ code: 0, out: expect.stringContaining(`loaded ${r.lib}`) });
    },
    120_000,
  );
});
