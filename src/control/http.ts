// ng and CLI over HTTP(S) (--listen-http, --listen-https): POST /ng, GET /ping, GET /cli/<words+joined+by+plus>; WebSocket upgrades via ws.ts.
import http from "node:http";
import https from "node:https";
import type { Listener } from "../config/types.ts";
import { MAX_NG_MESSAGE } from "./codec.ts";
import { runCliCommand } from "./cli.ts";
import type { NgDispatcher } from "./dispatch.ts";
import { describeBindError, hostPort, ListenError } from "./listen-error.ts";
import type { BoundListener } from "./udp.ts";
import { handleUpgrade } from "./ws.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("http");

/** A GET route another subsystem serves on --listen-http (e.g. the Prometheus exporter on /metrics). */
export type HttpRoute = () => { status?: number; type: string; body: string } | Promise<{ status?: number; type: string; body: string }>;
const routes = new Map<string, HttpRoute>();

export function registerHttpRoute(path: string, route: HttpRoute): void {
  routes.set(path, route);
}

/** PEM certificate and key for --listen-https (--https-cert, --https-key). */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export function listenHttp(listener: Listener, dispatcher: NgDispatcher, option = "--listen-http", tls?: TlsFiles): Promise<BoundListener> {
  const address = listener.address ?? (listener.family === 4 ? "0.0.0.0" : "::");
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void serve(req, res, dispatcher);
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.on("upgrade", (req, socket, head) => handleUpgrade(req, socket, head, dispatcher));
  server.on("clientError", (_e, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    const onBindError = (e: Error) => {
      server.close();
      reject(new ListenError(option, hostPort(address, listener.port), describeBindError(e)));
    };
    server.once("error", onBindError);
    server.listen({ host: address, port: listener.port, exclusive: true }, () => {
      server.off("error", onBindError);
      const a = server.address() as { address: string; port: number };
      const local = hostPort(a.address, a.port);
      log.info(`Listening for ${tls ? "HTTPS/secure WebSocket" : "HTTP/WebSocket"} requests on ${local}`);
      resolve({
        local,
        port: a.port,
        close: () =>
          new Promise<void>((res) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => res());
          }),
      });
    });
  });
}

function reply(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_NG_MESSAGE) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, dispatcher: NgDispatcher): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path === "/ping" && req.method === "GET") return reply(res, 200, "text/plain", "pong");
    if (path.startsWith("/cli/") && req.method === "GET") {
      const line = decodeURIComponent(path.slice(5).replace(/\+/g, " "));
      return reply(res, 200, "text/plain", await runCliCommand(line));
    }
    if (path === "/ng" && req.method === "POST") {
      const body = await readBody(req);
      if (!body) return reply(res, 413, "text/plain", "ng message too large\n");
      const ctx = { transport: "http" as const, remoteAddress: req.socket.remoteAddress ?? "?", remotePort: req.socket.remotePort ?? 0 };
      const out = await dispatcher.handle(body, ctx);
      if (!out) return reply(res, 400, "text/plain", "Invalid ng message (no cookie)\n");
      return reply(res, 200, "application/x-rtpengine-ng", out);
    }
    const route = routes.get(path);
    if (route && req.method === "GET") {
      const r = await route();
      return reply(res, r.status ?? 200, r.type, r.body);
    }
    if (path === "/metrics" || path === "/admin") return reply(res, 501, "text/plain", `${path} is not implemented in this version\n`);
    return reply(res, 404, "text/plain", "Not found\n");
  } catch (e) {
    log.err(`HTTP request failed: ${(e as Error).message}`);
    if (!res.headersSent) reply(res, 500, "text/plain", "internal error\n");
    else res.destroy();
  }
}
