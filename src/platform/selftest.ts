// `--self-test-shim`: proves the shim loads, owns sockets, and delivers a packet to JS through its thread.
import { initMediaSockets, MediaSocket, shutdownMediaSockets } from "../media/socket.ts";

export interface SelfTestOptions {
  /** where to report (default: stderr) */
  log?: (line: string) => void;
  timeoutMs?: number;
}

/** Returns 0 when a packet sent from one shim socket arrived on its pair through the wake callback. */
export async function runShimSelfTest(opts: SelfTestOptions = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const timeoutMs = opts.timeoutMs ?? 3000;
  let sockets: MediaSocket[] = [];
  try {
    const shim = await initMediaSockets({ ringBytes: 1 << 16 });
    log(`shim: ${shim.binding.runtime} loaded ${shim.binding.path}`);
    const [rtp, rtcp] = MediaSocket.bindPair({ address: "127.0.0.1", minPort: 20000, maxPort: 59999 });
    sockets = [rtp, rtcp];
    if (rtp.local.port % 2 !== 0 || rtcp.local.port !== rtp.local.port + 1) {
      log(`shim: bad port pair ${rtp.local.port}/${rtcp.local.port}`);
      return 1;
    }
    const payload = new TextEncoder().encode(`rtpe-self-test ${rtp.local.port}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const received = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      rtcp.onPackets = (packets) => {
        for (const p of packets) {
          const same = p.data.byteLength === payload.byteLength && p.data.every((b, i) => b === payload[i]);
          if (same && p.src.port === rtp.local.port && p.dst.port === rtcp.local.port) resolve(true);
        }
      };
    });
    if (!rtp.send(rtcp.local, payload)) {
      log("shim: send failed");
      return 1;
    }
    const ok = await received;
    clearTimeout(timer);
    log(ok ? `shim: ok (${rtp.local.address}:${rtp.local.port} -> ${rtcp.local.port})` : "shim: no packet within timeout");
    return ok ? 0 : 1;
  } catch (e) {
    log(`shim: ${(e as Error).message}`);
    return 1;
  } finally {
    for (const s of sockets) s.close();
    await shutdownMediaSockets();
  }
}
