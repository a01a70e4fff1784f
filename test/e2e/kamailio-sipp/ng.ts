// Tiny ng helper for run.sh: `bun ng.ts HOST:PORT wait-ping MS` exits 0 once the daemon answers pong.
import { NgClient, waitForPing } from "../../conformance/ng-client.ts";

const [target = "127.0.0.1:2223", what = "wait-ping", ms = "15000"] = Bun.argv.slice(2);
const i = target.lastIndexOf(":");
const client = await NgClient.open({ host: target.slice(0, i), port: Number(target.slice(i + 1)), timeoutMs: 1000 });
if (what !== "wait-ping") {
  console.error(`ng.ts: unknown action ${what}`);
  process.exit(2);
}
const ok = await waitForPing(client, Number(ms));
client.close();
process.exit(ok ? 0 : 1);
