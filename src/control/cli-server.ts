// The --listen-cli TCP server: one command line per connection, answered with text, then the connection is closed.
import net from "node:net";
import type { Listener } from "../config/types.ts";
import { runCliCommand } from "./cli.ts";
import { describeBindError, hostPort, ListenError } from "./listen-error.ts";
import type { BoundListener } from "./udp.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("control");
const MAX_CLI_LINE = 64 * 1024;

export function listenCli(listener: Listener, option = "--listen-cli"): Promise<BoundListener> {
  const address = listener.address ?? (listener.family === 6 ? "::" : "0.0.0.0");
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    sock.on("close", () => conns.delete(sock));
    sock.on("error", () => undefined);
    let buf = "";
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      const line = buf.split("\n")[0]!.replace(/\r$/, "");
      log.info(`Received CLI command '${line}' from ${hostPort(sock.remoteAddress ?? "?", sock.remotePort ?? 0)}`);
      void runCliCommand(line).then((out) => {
        if (!sock.destroyed) sock.end(out);
      });
    };
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      buf += d;
      if (buf.includes("\n")) run();
      else if (buf.length > MAX_CLI_LINE) {
        done = true;
        sock.end("Command too long\n");
      }
    });
    // rtpengine-ctl sends the newline; a client that only half-closes still gets its answer
    sock.on("end", run);
    sock.setTimeout(10_000, () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    const onBindError = (e: Error) => {
      server.close();
      reject(new ListenError(option, hostPort(address, listener.port), describeBindError(e)));
    };
    server.once("error", onBindError);
    server.listen({ host: address, port: listener.port, exclusive: true }, () => {
      server.off("error", onBindError);
      const a = server.address() as net.AddressInfo;
      const local = hostPort(a.address, a.port);
      log.info(`Listening for CLI commands on TCP ${local}`);
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
