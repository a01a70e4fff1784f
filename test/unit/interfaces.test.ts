// Logical interfaces: grouping by name, address order per family, a repeated address served once.
import { describe, expect, test } from "bun:test";
import { Interfaces } from "../../src/call/interfaces.ts";
import type { InterfaceSpec } from "../../src/config/types.ts";

const spec = (name: string, address: string, family: 4 | 6 = 4, advertised: string | null = null): InterfaceSpec => ({ name, address, advertised, family });

describe("Interfaces", () => {
  test("groups by name, default first choice, preferred family first", () => {
    const i = new Interfaces([spec("pub", "192.0.2.1"), spec("default", "198.51.100.1"), spec("pub", "2001:db8::1", 6)]);
    expect(i.defaultName).toBe("default");
    expect(i.resolve("pub")).toBe("pub");
    expect(i.resolve("internal")).toBe("default");
    expect(i.addresses("pub", 6).map((a) => a.address)).toEqual(["2001:db8::1", "192.0.2.1"]);
  });

  test("the same address twice under one name is one address (as rtpengine 10.5)", () => {
    const i = new Interfaces([spec("default", "127.0.0.1"), spec("default", "127.0.0.1", 4, "192.0.2.9"), spec("other", "127.0.0.1")]);
    expect(i.addresses("default", 4)).toEqual([spec("default", "127.0.0.1")]);
    expect(i.addresses("other", 4).map((a) => a.address)).toEqual(["127.0.0.1"]);
    expect(i.all().length).toBe(2);
  });
});
