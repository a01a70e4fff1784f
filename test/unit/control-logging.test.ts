// Unit tests of logging: syslog levels and subsystem levels, stderr fallback, and real syslog datagrams through logger(1).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLogger, getSubsystemLevel, initLogging, setAllLogLevels, shiftLogLevels, sinkDescription } from "../../src/log/logger.ts";

describe("logging", () => {
  test("levels: default, internals off, shift by signals, clamp to 0..7", () => {
    initLogging({ stderr: true, timestamps: false, level: 6, subsystemLevels: { ice: 3 } });
    expect(getSubsystemLevel("core")).toBe(6);
    expect(getSubsystemLevel("ice")).toBe(3);
    expect(getSubsystemLevel("internals")).toBe(-1);
    expect(getLogger("core").enabled(7)).toBe(false);
    shiftLogLevels(+1);
    expect(getSubsystemLevel("core")).toBe(7);
    expect(getSubsystemLevel("ice")).toBe(4);
    expect(getSubsystemLevel("internals")).toBe(-1);
    shiftLogLevels(+1);
    expect(getSubsystemLevel("core")).toBe(7);
    setAllLogLevels(2);
    expect(getSubsystemLevel("ice")).toBe(2);
    expect(getSubsystemLevel("internals")).toBe(2);
  });

  test("--split-logs and --max-log-line-length", () => {
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as { write: unknown }).write = (chunk: string) => (lines.push(String(chunk)), true);
    try {
      initLogging({ stderr: true, timestamps: false, level: 6, splitLogs: true, maxLineLength: 30 });
      getLogger("control").info("first\nsecond line that is rather long");
    } finally {
      (process.stderr as { write: unknown }).write = orig;
    }
    expect(lines).toEqual([
      "INFO: [control] first\n",
      "INFO: [control] second line th\n",
      "INFO: [control] at is rather long\n",
    ]);
  });

  test("without --log-stderr and without a syslog socket: stderr, and the sink says why", () => {
    initLogging({ stderr: false, timestamps: true, level: 6, syslogSocket: "/nonexistent/log" });
    expect(sinkDescription()).toBe("stderr (no /nonexistent/log syslog socket)");
  });

  test("syslog: lines arrive as datagrams with facility*8+level priority", async () => {
    if (!existsSync("/usr/bin/python3") || !existsSync("/usr/bin/logger")) {
      console.warn("skipped: needs /usr/bin/python3 (to bind a unix datagram socket) and /usr/bin/logger");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "rtpe-syslog-"));
    const sock = join(dir, "log");
    const py = Bun.spawn(["/usr/bin/python3", "-c",
      "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound',flush=True)\ns.settimeout(10)\nfor i in range(2): print(s.recv(4096).decode(),flush=True)", sock],
      { stdout: "pipe" });
    const reader = py.stdout.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("bound");
    try {
      initLogging({ stderr: false, timestamps: false, level: 6, facility: "local3", syslogSocket: sock });
      expect(sinkDescription()).toBe("syslog");
      getLogger("control").warning("syslog test line");
      getLogger("core").debug("not at level 6");
      getLogger("core").err("second line");
      const deadline = Date.now() + 8000;
      while (!text.includes("second line") && Date.now() < deadline) {
        const c = await reader.read();
        if (c.done) break;
        text += new TextDecoder().decode(c.value);
      }
      // local3 = 19: warning 19*8+4 = 156, err 19*8+3 = 155
      expect(text).toMatch(/<156>.*rtpengine\[\d+\]: WARNING: \[control\] syslog test line/);
      expect(text).toMatch(/<155>.*ERR: \[core\] second line/);
      expect(text).not.toContain("not at level 6");
    } finally {
      initLogging({ stderr: true, timestamps: false, level: 6 });
      py.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
