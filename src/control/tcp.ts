// ng over TCP (--listen-tcp-ng): a stream of "COOKIE DICT" messages back to back, each message ending where its dictionary ends.
import net from "node:net";
import type { Listener } from "../config/types.ts";
import { encodeBencode } from "./bencode-codec.ts";
import { MAX_NG_MESSAGE, ngMessageLength } from "./codec.ts";
import type { NgDict } from "./types.ts";
import type { NgDispatcher } from "./dispatch.ts";
import { describeBindError, hostPort, ListenError } from "./listen-error.ts";
import type { BoundListener } from "./udp.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("control");

/** Every open ng TCP connection, for events pushed to the SIP proxies (--dtmf-log-ng-tcp). */
const connections = new Set<net.Socket>();

/**
 * Send a bencoded dictionary to every connected ng TCP client (no cookie: it is not a reply).
 * Returns how many connections it was written to.
 */
export function broadcastNgTcp(dict: NgDict): number {
  const bytes = encodeBencode(dict);
  let n = 0;
  for (const c of connections) {
    if (c.destroyed || !c.writable) continue;
    c.write(bytes);
    n++;
  }
  return n;
}

/** Bind one --listen-tcp-ng address. Rejects with ListenError if it cannot be bound. */
export function listenNgTcp(listener: Listener, dispatcher: NgDispatcher, option = "--listen-tcp-ng"): Promise<BoundListener> {
  const address = listener.address ?? (listener.family === 4 ? "0.0.0.0" : "::");
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    connections.add(sock);
    sock.on("close", () => {
      conns.delete(sock);
      connections.delete(sock);
    });
    serveConnection(sock, dispatcher);
  });
  return new Promise((resolve, reject) => {
    const onBindError = (e: Error) => {
      server.close();
      reject(new ListenError(option, hostPort(address, listener.port), describeBindError(e)));
    };
    server.once("error", onBindError);
    server.listen({ host: address, port: listener.port, exclusive: true, ipv6Only: false }, () => {
      server.off("error", onBindError);
      server.on("error", (e) => log.err(`ng TCP listener error: ${e.message}`));
      const a = server.address() as net.AddressInfo;
      const local = hostPort(a.address, a.port);
      log.info(`Listening for ng commands on TCP ${local}`);
      resolve({
        local,
        port: a.port,
        close: () =>
          new Promise<void>((res) => {
            for (const c of conns) c.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

/** Replies go out in request order even when a later handler finishes first. */
function serveConnection(sock: net.Socket, dispatcher: NgDispatcher): void {
  const remoteAddress = sock.remoteAddress ?? "?";
  const remotePort = sock.remotePort ?? 0;
  const ctx = { transport: "tcp" as const, remoteAddress, remotePort };
  let buf: Buffer = Buffer.alloc(0);
  let chain: Promise<void> = Promise.resolve();
  /** after an unparseable message the rest of the stream is ignored until the connection closes */
  let discarding = false;
  sock.on("error", (e) => log.debug(`ng TCP connection ${hostPort(remoteAddress, remotePort)}: ${e.message}`));
  // the proxy closed its side: finish the replies still owed, then close ours (an incomplete message is dropped)
  sock.on("end", () => {
    void chain.then(() => sock.end());
  });
  sock.on("data", (chunk: Buffer) => {
    if (discarding) return;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      // Like rtpengine, bytes between messages are not skipped: "…e\nck d…e" makes "\nck" the next cookie.
      if (buf.length === 0) return;
      const len = ngMessageLength(buf);
      if (len === 0) {
        if (buf.length > MAX_NG_MESSAGE) {
          log.warning(`ng TCP message from ${hostPort(remoteAddress, remotePort)} exceeds ${MAX_NG_MESSAGE} bytes, closing connection`);
          sock.destroy();
        }
        return;
      }
      // Unparseable: hand everything to the dispatcher (it answers with the cookie if there is one) and drop the
      // connection, since there is no way to find where the next message starts.
      const fatal = len < 0;
      const msg = fatal ? buf : buf.subarray(0, len);
      buf = fatal ? Buffer.alloc(0) : buf.subarray(len);
      const reply = dispatcher.handle(msg, ctx);
      chain = chain
        .then(async () => {
          const r = await reply;
          if (r && !sock.destroyed) sock.write(r);
          if (fatal) sock.end();
        })
        .catch((e: unknown) => log.err(`ng TCP request from ${hostPort(remoteAddress, remotePort)} failed: ${(e as Error)?.message ?? e}`));
      if (fatal) {
        discarding = true;
        return;
      }
    }
  });
}
