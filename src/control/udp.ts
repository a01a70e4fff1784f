// ng over UDP (--listen-ng): one node:dgram socket per address, each datagram one request, replies sent back to the sender.
import dgram from "node:dgram";
import { isIP } from "node:net";
import type { Listener } from "../config/types.ts";
import type { NgDispatcher } from "./dispatch.ts";
import { describeBindError, hostPort, ListenError } from "./listen-error.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("control");
const NG_RECV_BUFFER = 4 * 1024 * 1024;

export interface BoundListener {
  /** human-readable local address, e.g. "127.0.0.1:2223" or "[::1]:2223" */
  readonly local: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A reply to a client whose port has gone leaves an ICMP error pending on the socket, and the
 * next sendto() reports it (ECONNREFUSED) even when that send goes to a different, live client,
 * whose reply is then lost: seen in the flood test ("Replying to 'ping' ... send ECONNREFUSED").
 * So a send that fails with such an error is retried, twice at most.
 */
const PENDING_ICMP = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);

function sendReply(sock: dgram.Socket, reply: Buffer, port: number, address: string, retries = 2): void {
  sock.send(reply, port, address, (err) => {
    if (!err) return;
    const code = (err as { code?: string }).code ?? "";
    if (retries > 0 && PENDING_ICMP.has(code)) return sendReply(sock, reply, port, address, retries - 1);
    log.warning(`Could not send ng reply to ${hostPort(address, port)}: ${err.message}`);
  });
}

/** Bind one --listen-ng address. Rejects with ListenError (naming the option) if the address cannot be bound. */
export function listenNgUdp(listener: Listener, dispatcher: NgDispatcher, option = "--listen-ng"): Promise<BoundListener> {
  const address = listener.address ?? (listener.family === 4 ? "0.0.0.0" : "::");
  const v6 = isIP(address) === 6 || (isIP(address) === 0 && listener.family === 6);
  const sock = dgram.createSocket({ type: v6 ? "udp6" : "udp4", reuseAddr: false, ipv6Only: false });
  // A call storm arrives in bursts: a larger receive buffer (capped by net.core.rmem_max) absorbs them
  // while the single JS thread works through the queue.
  return new Promise((resolve, reject) => {
    const onBindError = (e: Error) => {
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      reject(new ListenError(option, hostPort(address, listener.port), describeBindError(e)));
    };
    sock.once("error", onBindError);
    sock.bind({ address, port: listener.port, exclusive: true }, () => {
      sock.off("error", onBindError);
      try {
        sock.setRecvBufferSize(NG_RECV_BUFFER);
      } catch (e) {
        log.debug(`Could not enlarge the ng UDP receive buffer: ${(e as Error).message}`);
      }
      sock.on("error", (e) => log.err(`ng UDP socket ${hostPort(address, listener.port)} error: ${e.message}`));
      sock.on("message", (msg, rinfo) => {
        const ctx = { transport: "udp" as const, remoteAddress: rinfo.address, remotePort: rinfo.port };
        dispatcher
          .handle(msg, ctx)
          .then((reply) => {
            if (reply) sendReply(sock, reply, rinfo.port, rinfo.address);
          })
          .catch((e: unknown) => log.err(`ng UDP request from ${hostPort(rinfo.address, rinfo.port)} failed: ${(e as Error)?.message ?? e}`));
      });
      const bound = sock.address();
      const local = hostPort(bound.address, bound.port);
      log.info(`Listening for ng commands on UDP ${local}`);
      resolve({
        local,
        port: bound.port,
        close: () =>
          new Promise<void>((res) => {
            try {
              sock.close(() => res());
            } catch {
              res();
            }
          }),
      });
    });
  });
}
