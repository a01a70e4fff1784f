// Unit tests of rtpengine-ctl argument handling: -ip/-port forms, IPv6, the config file's listen-cli, usage cases.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCtlArgs } from "../../src/control/ctl-client.ts";

const none = ["-config-file", "/nonexistent.conf"];

describe("parseCtlArgs", () => {
  test("defaults to 127.0.0.1:9900", () => {
    expect(parseCtlArgs([...none, "list", "totals"])).toEqual({ ip: "127.0.0.1", port: 9900, command: "list totals" });
  });
  test("-ip and -port, single or double dash, with = or a separate word", () => {
    expect(parseCtlArgs([...none, "-ip", "10.0.0.1", "--port=2224", "get", "loglevel"])).toEqual({ ip: "10.0.0.1", port: 2224, command: "get loglevel" });
    expect(parseCtlArgs([...none, "--ip=10.0.0.1:7", "kslist"])).toEqual({ ip: "10.0.0.1", port: 7, command: "kslist" });
  });
  test("IPv6 addresses, bare or bracketed with a port", () => {
    expect(parseCtlArgs([...none, "-ip", "::1", "list", "numsessions"])).toEqual({ ip: "::1", port: 9900, command: "list numsessions" });
    expect(parseCtlArgs([...none, "-ip", "[::1]:9901", "list", "numsessions"])).toEqual({ ip: "::1", port: 9901, command: "list numsessions" });
  });
  test("listen-cli from the [rtpengine] section of the config file", () => {
    const f = join(mkdtempSync(join(tmpdir(), "ctl-")), "rtpengine.conf");
    writeFileSync(f, "[other]\nlisten-cli = 1.2.3.4:5\n[rtpengine]\ninterface = 10.0.0.1\nlisten-cli = 127.0.0.2:9911\n");
    expect(parseCtlArgs(["-config-file", f, "list", "timeout"])).toEqual({ ip: "127.0.0.2", port: 9911, command: "list timeout" });
    writeFileSync(f, "[rtpengine]\nlisten-cli = 9912\n");
    expect(parseCtlArgs(["-config-file", f, "-ip", "127.0.0.3", "list", "timeout"])).toEqual({ ip: "127.0.0.3", port: 9912, command: "list timeout" });
  });
  test("usage and errors", () => {
    expect(parseCtlArgs([...none])).toBe("help");
    expect(parseCtlArgs(["-h"])).toBe("help");
    expect(parseCtlArgs([...none, "-port", "abc", "list"])).toBe("invalid port 'abc'");
    expect(parseCtlArgs([...none, "-bogus", "list"])).toBe("unknown option '-bogus'");
    expect(parseCtlArgs([...none, "-port", "70000", "list"])).toBe("help");
  });
});
