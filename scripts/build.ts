// Build: the C shim (ffi/build.sh), then one self-contained executable dist/rtpengine (+ rtpengine-ctl symlink).
// Usage: bun scripts/build.ts [--entry src/main.ts] [--outfile dist/rtpengine] [--skip-shim]
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");

interface BuildArgs {
  entry: string;
  outfile: string;
  skipShim: boolean;
}

function parseArgs(argv: string[]): BuildArgs {
  const args: BuildArgs = { entry: "src/main.ts", outfile: "dist/rtpengine", skipShim: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--entry") args.entry = value();
    else if (a === "--outfile") args.outfile = value();
    else if (a === "--skip-shim") args.skipShim = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function run(what: string, cmd: string, args: string[]): void {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`})`);
  console.log(`build: ${what} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const outfile = resolve(root, args.outfile);
  // secure media: SRTP and DTLS are compiled into the shim, so the executable carries one copy (src/crypto/session.ts)
  process.env.RTPE_SHIM_WITH ??= "srtp dtls";
  if (!args.skipShim) run("shim", "sh", [join(root, "ffi/build.sh")]);
  if (!existsSync(join(root, "ffi/build/librtpe_shim.so"))) throw new Error("ffi/build/librtpe_shim.so missing");
  // standalone SRTP and DTLS libraries: what the daemon loads when it runs from source (src/crypto/session.ts) and the crypto tests
  if (!args.skipShim) {
    run("srtp", "bash", [join(root, "ffi/srtp/build.sh")]);
    run("dtls", "bash", [join(root, "ffi/dtls/build.sh")]);
  }

  mkdirSync(dirname(outfile), { recursive: true });
  // the shim is embedded through src/platform/ffi-embed.ts (`with { type: "file" }`)
  run("compile", process.execPath, ["build", "--compile", resolve(root, args.entry), "--outfile", outfile]);

  // rtpengine-ctl is the same executable; it picks its personality from argv[0]
  const ctl = join(dirname(outfile), `${basename(outfile)}-ctl`);
  if (existsSync(ctl) || isSymlink(ctl)) unlinkSync(ctl);
  symlinkSync(basename(outfile), ctl);
  console.log(`build: ${outfile} (${(statSync(outfile).size / 1048576).toFixed(1)} MiB), ${ctl} -> ${basename(outfile)}`);
  return 0;
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

try {
  process.exit(main());
} catch (e) {
  console.error(`build: ${(e as Error).message}`);
  process.exit(1);
}
