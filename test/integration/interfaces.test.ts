// Integration: an interface given twice (here `-i 127.0.0.1` from the test helper and `--interface=127.0.0.1`) still relays calls, as rtpengine 10.5 does.
import { expect, test, setDefaultTimeout } from "bun:test";
import { spawnDaemon } from "../helpers/daemon.ts";
import { Phone, setupCall } from "./media-helpers.ts";

setDefaultTimeout(30_000);

test("a repeated --interface address is served once: offers get ports and media flows", async () => {
  const d = await spawnDaemon({ args: ["--interface=127.0.0.1", "--port-min=50600", "--port-max=50699"] });
  const a = await Phone.open(), b = await Phone.open();
  try {
    const c = await setupCall(d, { host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port });
    for (let i = 0; i < 5; i++) {
      a.send(c.toA.port);
      b.send(c.toB.port);
      await Bun.sleep(5);
    }
    expect(await b.waitFor(5)).toBe(5);
    expect(await a.waitFor(5)).toBe(5);
  } finally {
    a.close();
    b.close();
    expect(await d.stop()).toBe(0);
  }
});
