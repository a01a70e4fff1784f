// Differential check: our loader accepts and rejects the same option sets as Debian's rtpengine 10.5 daemon.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { missing } from "../helpers/requires.ts";

const REF = "/usr/bin/rtpengine";
const refVersion = existsSync(REF) ? spawnSync(REF, ["--version"], { encoding: "utf8" }).stderr : "";
const haveRef = !missing(!refVersion.includes("10.5."), "config-reference: Debian's rtpengine-daemon 10.5 is not installed (apt-get install -y rtpengine-daemon)");

const tmp = mkdtempSync(join(tmpdir(), "rtpe-config-ref-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function conf(name: string, body: string): string {
  const p = join(tmp, name);
  writeFileSync(p, body);
  return p;
}

// listen port 0 = any free port, so parallel runs never clash; -E keeps syslog out of it
const BASE = ["--table=-1", "--foreground", "-E", "-n", "127.0.0.1:0"];

/** true if the reference daemon is still running after a moment (accepted its options), false if it exited. */
function referenceAccepts(argv: string[]): boolean {
  const r = spawnSync(REF, [...BASE, ...argv], { timeout: 1200, killSignal: "SIGINT", encoding: "utf8" });
  // killed by our timeout = it got past option handling and was serving
  return r.signal === "SIGINT" || (r.error as { code?: string } | undefined)?.code === "ETIMEDOUT";
}

function weAccept(argv: string[]): boolean {
  try {
    loadConfig([...BASE, ...argv], { env: {} });
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
}

describe.skipIf(!haveRef)("same verdict as the reference daemon", () => {
  const cases: [string, () => string[]][] = [
    ["valid command line", () => ["--config-file=none", "-i", "127.0.0.1", "-t", "-1", "-L", "7", "--tos=0xb8"]],
    ["config file with an unknown key and 1 as a boolean", () => [`--config-file=${conf("ok.conf", "[rtpengine]\ninterface = 127.0.0.1\nno-such-key = 3\nforeground = 1\n")}`]],
    ["odd values the reference maps instead of refusing", () => ["--config-file=none", "-i", "127.0.0.1", "-L", "9", "--timeout=-5", "--max-sessions=-7", "--delete-delay=-1"]],
    ["TOS above 255", () => ["--config-file=none", "-i", "127.0.0.1", "--tos=300"]],
    ["DTLS MTU below 576", () => ["--config-file=none", "-i", "127.0.0.1", "--dtls-mtu=100"]],
    ["CN noise level above 127", () => ["--config-file=none", "-i", "127.0.0.1", "--cn-payload=200"]],
    ["Redis endpoint without database", () => ["--config-file=none", "-i", "127.0.0.1", "--redis=127.0.0.1:6379"]],
    ["graphite without address", () => ["--config-file=none", "-i", "127.0.0.1", "--graphite=2003"]],
    ["non-numeric integer", () => ["--config-file=none", "-i", "127.0.0.1", "--port-min=abc"]],
    ["unknown option", () => ["--config-file=none", "-i", "127.0.0.1", "--bogus"]],
    ["unknown log facility", () => ["--config-file=none", "-i", "127.0.0.1", "--log-facility=LOCAL0"]],
    ["unknown endpoint-learning", () => ["--config-file=none", "-i", "127.0.0.1", "--endpoint-learning=foo"]],
    ["unresolvable interface", () => ["--config-file=none", "-i", "999.1.1.1"]],
    ["no interface", () => ["--config-file=none"]],
    ["named config file absent", () => [`--config-file=${join(tmp, "absent.conf")}`, "-i", "127.0.0.1"]],
    ["section missing", () => [`--config-file=${conf("sec.conf", "[other]\n")}`, "-i", "127.0.0.1"]],
    ["hex integer in the file", () => [`--config-file=${conf("hex.conf", "[rtpengine]\nport-min = 0x7000\n")}`, "-i", "127.0.0.1"]],
    ["'yes' as a boolean in the file", () => [`--config-file=${conf("yes.conf", "[rtpengine]\nlog-stderr = yes\n")}`, "-i", "127.0.0.1"]],
  ];
  for (const [name, argv] of cases) {
    test(name, () => {
      const a = argv();
      expect(weAccept(a)).toBe(referenceAccepts(a));
    });
  }

  // Where we are deliberately stricter or looser; each line here is a known, chosen difference.
  test("documented differences", () => {
    // the reference starts with an impossible port range and fails later on every call; we refuse to start
    const range = ["--config-file=none", "-i", "127.0.0.1", "--port-min=5000", "--port-max=4000"];
    expect([referenceAccepts(range), weAccept(range)]).toEqual([true, false]);
    // GLib reads -m31000 as -m followed by options 3, 1, ...; we take it as -m 31000
    const attached = ["--config-file=none", "-i", "127.0.0.1", "-m31000"];
    expect([referenceAccepts(attached), weAccept(attached)]).toEqual([false, true]);
  });
});
