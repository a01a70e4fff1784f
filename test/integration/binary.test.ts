// Integration: the shim embedded in a `bun build --compile` executable, run from an empty directory under `env -i`; and under Deno.
import { DENO } from "../helpers/daemon.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { missing } from "../helpers/requires.ts";

const root = resolve(import.meta.dir, "../..");
const bin = join(root, "node_modules/.bin");
const dist = join(root, "dist/rtpengine");
let work: string;
let entry: string;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "rtpe-binary-"));
  // a stand-in entry, so the embedding is tested whatever src/main.ts does with the flag
  entry = join(work, "entry.ts");
  writeFileSync(entry, [
    `import { runShimSelfTest } from ${JSON.stringify(join(root, "src/platform/selftest.ts"))};`,
    `if (!process.argv.includes("--self-test-shim")) { console.error("flag missing"); process.exit(2); }`,
    `process.exit(await runShimSelfTest());`,
  ].join("\n"));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("single executable", () => {
  test("scripts/build.ts compiles an entry with the shim embedded; it works alone under env -i", () => {
    const out = join(work, "out/selftest");
    const b = run(join(bin, "bun"), ["scripts/build.ts", "--entry", entry, "--outfile", out]);
    expect(b).toMatchObject({ code: 0, out: expect.stringContaining("build: compile") });
    expect(readlinkSync(`${out}-ctl`)).toBe("selftest");

    const empty = join(work, "empty");
    const shimTmp = join(work, "shim-tmp");
    mkdirSync(empty);
    mkdirSync(shimTmp);
    copyFileSync(out, join(empty, "selftest"));
    const r = run("/usr/bin/env", ["-i", "./selftest", "--self-test-shim"], { cwd: empty });
    // the embedded copy is loaded from a memfd, not the tree's build; the output is part of the match so a failure shows it
    expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/shim: bun loaded memfd:librtpe_shim\.so\n.*shim: ok/s) });

    // without memfd it is copied to a temp dir and unlinked as soon as it is mapped: nothing is left behind
    const r2 = run("/usr/bin/env", ["-i", "RTPE_SHIM_NO_MEMFD=1", `RTPE_SHIM_TMPDIR=${shimTmp}`, "./selftest", "--self-test-shim"], { cwd: empty });
    expect(r2).toMatchObject({ code: 0, out: expect.stringContaining(`loaded ${shimTmp}/rtpe-shim-`) });
    expect(readdirSync(shimTmp)).toEqual([]);
  }, 120_000);

  const wired = existsSync(join(root, "src/main.ts")) && readFileSync(join(root, "src/main.ts"), "utf8").includes("self-test-shim");
  test.skipIf(missing(!wired || !existsSync(dist), "binary self-test: main.ts lacks --self-test-shim or dist/ is not built"))(
    "dist/rtpengine --self-test-shim from an empty directory under env -i (skipped when main.ts lacks the flag or dist/ is not built)",
    () => {
      const empty = mkdtempSync(join(work, "dist-"));
      copyFileSync(dist, join(empty, "rtpengine"));
      const r = run("/usr/bin/env", ["-i", "./rtpengine", "--self-test-shim"], { cwd: empty });
      expect(r).toMatchObject({ code: 0, out: expect.stringContaining("shim: ok") });
    },
    60_000,
  );
});

describe("deno", () => {
  test("the same self-test passes under Deno (Deno.dlopen, UnsafeCallback.threadSafe)", () => {
    if (!existsSync(join(root, "ffi/build/librtpe_shim.so"))) run("sh", [join(root, "ffi/build.sh")]);
    const r = run(DENO, ["run", "-A", entry, "--self-test-shim"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", DENO_NO_UPDATE_CHECK: "1" },
    });
    expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/shim: deno loaded.*shim: ok/s) });
  }, 60_000);

  test("under Deno the receive thread keeps receiving while JS is busy (wake-ups run on their own thread)", () => {
    const script = join(work, "busy.ts");
    writeFileSync(script, `
import { initMediaSockets, MediaSocket, shutdownMediaSockets } from ${JSON.stringify(join(root, "src/media/socket.ts"))};
await initMediaSockets();
const a = MediaSocket.bind({ address: "127.0.0.1" }), b = MediaSocket.bind({ address: "127.0.0.1" });
let delivered = 0;
b.onPackets = (p) => { delivered += p.length; };
const spin = (ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} };
a.send(b.local, new Uint8Array(10));
spin(200); // the first wake-up is pending: Deno cannot run it while JS spins
a.send(b.local, new Uint8Array(10));
spin(200);
const during = b.stats().rxPackets;
await new Promise((r) => setTimeout(r, 100));
console.log(JSON.stringify({ during, delivered }));
await shutdownMediaSockets();
`);
    const r = run(DENO, ["run", "-A", script], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", DENO_NO_UPDATE_CHECK: "1" },
    });
    expect(r).toMatchObject({ code: 0 });
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ during: 2, delivered: 2 });
  }, 60_000);
});
