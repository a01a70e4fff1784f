// The daemon's .deb: built from dist/rtpengine, holds the binary, rtpengine-ctl, config, unit; the packaged config starts it.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dgram from "node:dgram";
import { BINARY, REPO } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

const haveDpkg = spawnSync("dpkg-deb", ["--version"]).status === 0;
const ready = !missing(!haveDpkg || !existsSync(BINARY), `package-deb: ${haveDpkg ? "dist/rtpengine not built (run npm run build)" : "dpkg-deb missing"}`);

function ping(port: number): Promise<string | null> {
  return new Promise((res) => {
    const s = dgram.createSocket("udp4");
    const t = setTimeout(() => { s.close(); res(null); }, 1000);
    s.on("message", (m) => { clearTimeout(t); s.close(); res(m.toString("latin1")); });
    s.send(Buffer.from("pk1 d7:command4:pinge"), port, "127.0.0.1");
  });
}

describe.skipIf(!ready)("daemon .deb", () => {
  test("contents, control data, and the packaged config starts the daemon", async () => {
    const out = mkdtempSync(join(tmpdir(), "rtpe-deb-"));
    try {
      const r = spawnSync("bash", [join(REPO, "packaging/build-daemon-deb.sh")], { env: { ...process.env, OUT: out }, encoding: "utf8" });
      expect(r.status).toBe(0);
      const deb = r.stdout.trim();
      const info = spawnSync("dpkg-deb", ["-f", deb, "Package", "Conflicts", "Provides"], { encoding: "utf8" }).stdout;
      expect(info).toContain("Package: rtpengine");
      expect(info).toContain("Provides: rtpengine-daemon");
      const root = join(out, "root");
      expect(spawnSync("dpkg-deb", ["-x", deb, root]).status).toBe(0);
      expect(readlinkSync(join(root, "usr/bin/rtpengine-ctl"))).toBe("rtpengine");
      expect(lstatSync(join(root, "usr/bin/rtpengine")).mode & 0o111).not.toBe(0);
      expect(readFileSync(join(root, "lib/systemd/system/rtpengine.service"), "utf8")).toContain("Type=notify");
      const conffiles = spawnSync("sh", ["-c", `dpkg-deb --ctrl-tarfile ${deb} | tar -xO ./conffiles`], { encoding: "utf8" }).stdout;
      expect(conffiles).toContain("/etc/rtpengine/rtpengine.conf");

      // the shipped config, with only the ng port moved so the test does not collide with anything
      const port = 20000 + Math.floor(Math.random() * 5000);
      const child = Bun.spawn([join(root, "usr/bin/rtpengine"), `--config-file=${join(root, "etc/rtpengine/rtpengine.conf")}`,
        "--foreground", "--log-stderr", `--listen-ng=127.0.0.1:${port}`, "--listen-cli=127.0.0.1:0"], { env: {}, stderr: "pipe", stdout: "pipe" });
      let reply: string | null = null;
      for (let i = 0; i < 50 && reply === null; i++) {
        await Bun.sleep(200);
        reply = await ping(port);
      }
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      expect(reply).toBe("pk1 d6:result4:ponge");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60000);
});
