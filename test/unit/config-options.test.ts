// The option table against the reference: every option of the man page and of rtpengine 10.5.3.5's --help, same names.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OPTIONS } from "../../src/config/index.ts";
import { missing } from "../helpers/requires.ts";

const POD = "/work/shared/reference/upstream-v10.5/rtpengine-options-v10.5.pod";
const FIX = join(import.meta.dir, "../fixtures/config");

/** The brief's first cut: exactly these are marked implemented (plus --version, handled by the loader). */
const IMPLEMENTED = [
  "config-file", "config-section", "foreground", "pidfile", "log-level", "log-stderr", "log-facility", "no-log-timestamps",
  "listen-ng", "listen-tcp-ng", "listen-cli", "interface", "port-min", "port-max", "table", "no-fallback", "num-threads", "tos", "timeout",
  "silent-timeout", "final-timeout", "delete-delay", "max-sessions", "reject-invalid-sdp", "version",
  "listen-http", "listen-https", "https-cert", "https-key", "split-logs", "max-log-line-length", "endpoint-learning", "offer-timeout",
];

/** Our extensions (marked `extension`, named as in later rtpengine versions) are not in 10.5's --help. */
const REFERENCE = OPTIONS.filter((o) => !o.extension);
const EXTENSIONS = ["nftables-chain", "nftables-base-chain", "nftables-append", "nftables-family"];

describe("option table", () => {
  test("same long and short names as the reference daemon's --help", () => {
    const ref = readFileSync(join(FIX, "reference-options.txt"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(" ") as [string, string])
      .filter(([, long]) => long !== "help"); // --help is handled by the parser, not a table entry
    const ours = new Map(REFERENCE.map((o) => [o.long, o.short ?? "-"]));
    for (const [short, long] of ref) expect(`${long}: ${ours.get(long)}`).toBe(`${long}: ${short}`);
    expect(REFERENCE.length).toBe(ref.length);
  });

  test("every option of the man page is in the table", () => {
    if (missing(!existsSync(POD), `${POD} is not on this machine`)) return;
    const names = new Set<string>();
    for (const m of readFileSync(POD, "utf8").matchAll(/^=item (?:B<-[a-zA-Z]>, )?B<--([a-z0-9-]+)/gm)) names.add(m[1]!);
    names.delete("help");
    names.delete("log-level-"); // --log-level-<subsystem>: one entry per subsystem
    // the man page misspells the facility options in its item headers; the daemon spells them log-facility*
    for (const n of [...names]) if (n.startsWith("log-facilty")) { names.delete(n); names.add(n.replace("facilty", "facility")); }
    expect(names.size).toBeGreaterThan(100);
    const ours = new Set(OPTIONS.map((o) => o.long));
    expect([...names].filter((n) => !ours.has(n))).toEqual([]);
    for (const sub of ["core", "internals", "dtx"]) expect(ours.has(`log-level-${sub}`)).toBe(true);
  });

  test("implemented flags mark exactly the first cut", () => {
    expect(REFERENCE.filter((o) => o.implemented).map((o) => o.long).sort()).toEqual([...IMPLEMENTED].sort());
  });

  test("extensions: exactly these, implemented, without short names", () => {
    const ext = OPTIONS.filter((o) => o.extension);
    expect(ext.map((o) => o.long).sort()).toEqual([...EXTENSIONS].sort());
    for (const o of ext) expect(`${o.long}: ${o.implemented} ${o.short ?? "-"}`).toBe(`${o.long}: true -`);
  });

  test("every option with a value has a placeholder and a help line", () => {
    for (const o of OPTIONS) {
      expect(o.help.length).toBeGreaterThan(5);
      if (o.arg !== "none") expect(`${o.long}: ${o.argName ?? ""}`).not.toBe(`${o.long}: `);
    }
  });
});
