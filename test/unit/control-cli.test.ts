// Unit tests of the CLI command language: log levels, settings in the live config, help, unknown and unbuilt commands.
import { describe, expect, test } from "bun:test";
import { initCli, registerCliCommand, runCliCommand } from "../../src/control/cli.ts";
import type { Config } from "../../src/config/types.ts";
import { getLogLevel, initLogging, shiftLogLevels } from "../../src/log/logger.ts";

initLogging({ stderr: true, timestamps: false, level: 6 });
const config = { timeout: 60, silentTimeout: 3600, maxSessions: -1, deleteDelay: 30 } as Config;
initCli(config);

describe("CLI", () => {
  test("get/list loglevel and set loglevel", async () => {
    expect(await runCliCommand("get loglevel core")).toBe("6\n");
    expect(await runCliCommand("list loglevel")).toContain("internals = -1\n");
    expect(await runCliCommand("set loglevel 4")).toBe("Success setting loglevel to 4\n");
    expect(await runCliCommand("list loglevel")).toContain("core = 4\ncontrol = 4\n".slice(0, 9));
    expect(await runCliCommand("list loglevel")).toContain("internals = 4\n");
    expect(await runCliCommand("set loglevel control 7")).toBe("Success setting loglevel to 7\n");
    expect(await runCliCommand("get loglevel control")).toBe("7\n");
    expect(await runCliCommand("set loglevel 12")).toContain("Invalid log level");
    expect(getLogLevel()).toBe(4);
    shiftLogLevels(-1);
    expect(await runCliCommand("get loglevel core")).toBe("3\n");
    expect(await runCliCommand("get loglevel control")).toBe("6\n");
  });

  test("settings read and write the live config", async () => {
    expect(await runCliCommand("list timeout")).toBe("TIMEOUT=60\n");
    expect(await runCliCommand("set timeout 70")).toBe("Success setting timeout to 70\n");
    expect(config.timeout).toBe(70);
    expect(await runCliCommand("set timeout abc")).toContain("Fail setting timeout to abc");
    expect(await runCliCommand("list maxsessions")).toBe("Maximum sessions configured on rtpengine: -1\n");
  });

  test("help, incomplete, unknown, and not-yet-built commands", async () => {
    expect(await runCliCommand("list")).toBe("More parameters required.\n");
    expect(await runCliCommand("bogus")).toBe("Unknown or incomplete command::bogus\n");
    expect(await runCliCommand("list bogus")).toBe("Unknown or incomplete command::bogus\n");
    expect(await runCliCommand("list help")).toContain("\tnumsessions\n");
    expect(await runCliCommand("kslist")).toContain("not implemented");
  });

  test("subsystems can register commands; get is an alias of list", async () => {
    registerCliCommand("list numsessions", () => "Current sessions own: 3");
    expect(await runCliCommand("get numsessions")).toBe("Current sessions own: 3\n");
  });
});
