// GKeyFile reader: syntax and value decoding rules as GLib applies them to rtpengine.conf.

import { describe, expect, test } from "bun:test";
import {
  KeyFileError, keyFileBoolean, keyFileInteger, keyFileString, keyFileStringList, parseKeyFile,
} from "../../src/config/keyfile.ts";

describe("parseKeyFile", () => {
  test("groups, comments, blank lines, whitespace around '='", () => {
    const kf = parseKeyFile("# top\n\n[a]\n  key1 =  v1  \nkey2=v=2\n\t# indented comment\n[b]\nk = \n");
    expect([...kf.keys()]).toEqual(["a", "b"]);
    expect(kf.get("a")!.get("key1")).toBe("v1  "); // trailing blanks stay; decoders deal with them
    expect(kf.get("a")!.get("key2")).toBe("v=2");
    expect(kf.get("b")!.get("k")).toBe("");
  });

  test("';' does not start a comment", () => {
    expect(() => parseKeyFile("[a]\n; not a comment\n")).toThrow(KeyFileError);
  });

  test("errors: key before group, line without '=', bad group", () => {
    expect(() => parseKeyFile("k=v\n[a]\n")).toThrow("before the first group");
    expect(() => parseKeyFile("[a]\njunk\n")).toThrow("line 2");
    expect(() => parseKeyFile("[]\n")).toThrow(KeyFileError);
    expect(() => parseKeyFile("[a] x\n")).toThrow(KeyFileError);
    expect(parseKeyFile("[a]  \n").has("a")).toBe(true);
  });

  test("CRLF files", () => {
    expect(parseKeyFile("[a]\r\nk = v\r\n").get("a")!.get("k")).toBe("v");
  });
});

describe("value decoding", () => {
  test("strings: escapes", () => {
    expect(keyFileString("a\\sb\\tc\\\\d")).toBe("a b\tc\\d");
    expect(() => keyFileString("a\\;b")).toThrow("invalid escape");
    expect(() => keyFileString("a\\")).toThrow("end of line");
  });

  test("string lists: ';' separates, '\\;' escapes, a trailing ';' ends the list", () => {
    expect(keyFileStringList("a;b;c")).toEqual(["a", "b", "c"]);
    expect(keyFileStringList("a;b;")).toEqual(["a", "b"]);
    expect(keyFileStringList("a\\;b;c")).toEqual(["a;b", "c"]);
    expect(keyFileStringList("")).toEqual([]);
  });

  test("booleans: true/false/1/0 only, case-sensitive", () => {
    expect(keyFileBoolean("true")).toBe(true);
    expect(keyFileBoolean("1 ")).toBe(true);
    expect(keyFileBoolean("false")).toBe(false);
    expect(keyFileBoolean("0")).toBe(false);
    for (const v of ["True", "yes", "on", "2", ""]) expect(keyFileBoolean(v)).toBeNull();
  });

  test("integers: decimal only, 32-bit", () => {
    expect(keyFileInteger("-1")).toBe(-1);
    expect(keyFileInteger("30000 ")).toBe(30000);
    for (const v of ["0x10", "1.5", "abc", "", "2147483648"]) expect(keyFileInteger(v)).toBeNull();
  });
});
