// Integration: rtpengine-ctl (our `rtpengine ctl ...` personality and Debian's Perl client) against our --listen-cli.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, binaryExists, daemonCommand, freePort, REPO, spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

let d: TestDaemon;
beforeAll(async () => {
  d = await spawnDaemon({ cli: true });
});
afterAll(async () => {
  await d?.stop();
});

async function run(cmd: string[]) {
  const p = Bun.spawn(cmd, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("rtpengine-ctl", () => {
  test("`rtpengine ctl -ip A -port P <command>`", async () => {
    const r = await run([...daemonCommand("bun"), "ctl", "-ip", "127.0.0.1", "-port", String(d.cliPort), "get", "loglevel", "core"]);
    expect(r).toEqual({ out: "6\n", err: "", code: 0 });
  });

  test("-ip A:P form, set then list", async () => {
    const set = await run([...daemonCommand("bun"), "ctl", "-ip", `127.0.0.1:${d.cliPort}`, "set", "timeout", "75"]);
    expect(set.out).toBe("Success setting timeout to 75\n");
    const list = await run([...daemonCommand("bun"), "ctl", "--ip=127.0.0.1", `--port=${d.cliPort}`, "list", "timeout"]);
    expect(list.out).toBe("TIMEOUT=75\n");
  });

  test("no daemon listening: exit 1 with a message", async () => {
    const port = await freePort();
    const r = await run([...daemonCommand("bun"), "ctl", "-port", String(port), "list", "numsessions"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("Cannot connect to the rtpengine");
  });

  test("no command: usage, exit 1", async () => {
    const r = await run([...daemonCommand("bun"), "ctl"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("rtpengine-ctl [ -ip");
  });

  test("Debian's Perl rtpengine-ctl talks to our daemon", async () => {
    if (!existsSync("/usr/bin/rtpengine-ctl")) {
      console.warn("skipped: /usr/bin/rtpengine-ctl not installed (apt-get install rtpengine-utils)");
      return;
    }
    const r = await run(["/usr/bin/rtpengine-ctl", "-ip", "127.0.0.1", "-port", String(d.cliPort), "list", "loglevels"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("control - Control protocols including SDP exchanges, CLI\n");
  });

  test("compiled binary run through a symlink named rtpengine-ctl", async () => {
    if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
    const link = join(mkdtempSync(join(tmpdir(), "rtpe-ctl-")), "rtpengine-ctl");
    symlinkSync(BINARY, link);
    const r = await run([link, "-ip", "127.0.0.1", "-port", String(d.cliPort), "get", "loglevel", "core"]);
    expect(r).toEqual({ out: "6\n", err: "", code: 0 });
  });
});
