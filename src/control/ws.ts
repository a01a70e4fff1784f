// WebSocket (RFC 6455) server side for --listen-http: subprotocols ng.rtpengine.com, cli.rtpengine.com and echo.rtpengine.com.
import { createHash } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { MAX_NG_MESSAGE } from "./codec.ts";
import { runCliCommand } from "./cli.ts";
import type { NgDispatcher } from "./dispatch.ts";
import { getLogger } from "../log/logger.ts";

const log = getLogger("http");
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const PROTOCOLS = ["ng.rtpengine.com", "cli.rtpengine.com", "echo.rtpengine.com"] as const;
type Protocol = (typeof PROTOCOLS)[number];

export function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, dispatcher: NgDispatcher): void {
  socket.on("error", () => undefined);
  const key = req.headers["sec-websocket-key"];
  const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim());
  const protocol = PROTOCOLS.find((p) => offered.includes(p));
  if (typeof key !== "string" || String(req.headers["upgrade"]).toLowerCase() !== "websocket" || !protocol) {
    const why = protocol ? "bad WebSocket handshake" : `unsupported WebSocket subprotocol (use one of ${PROTOCOLS.join(", ")})`;
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${why.length + 1}\r\nConnection: close\r\n\r\n${why}\n`);
    return;
  }
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  const remoteAddress = (socket as unknown as { remoteAddress?: string }).remoteAddress ?? "?";
  const remotePort = (socket as unknown as { remotePort?: number }).remotePort ?? 0;
  const conn: WsConnection = new WsConnection(socket, (msg: Buffer, binary: boolean): Promise<void> => onMessage(conn, protocol, msg, binary, dispatcher, remoteAddress, remotePort));
  if (head.length) conn.feed(head);
  socket.on("data", (d: Buffer) => conn.feed(d));
}

async function onMessage(conn: WsConnection, protocol: Protocol, msg: Buffer, binary: boolean, dispatcher: NgDispatcher, remoteAddress: string, remotePort: number): Promise<void> {
  if (protocol === "echo.rtpengine.com") return conn.send(msg, binary);
  if (protocol === "cli.rtpengine.com") return conn.send(Buffer.from(await runCliCommand(msg.toString("latin1")), "latin1"), false);
  const out = await dispatcher.handle(msg, { transport: "ws", remoteAddress, remotePort });
  if (out) conn.send(out, binary);
}

/** Frame parser/writer for one server-side connection (client frames are masked, ours are not). */
class WsConnection {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBinary = false;
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onMessage: (msg: Buffer, binary: boolean) => void | Promise<void>,
  ) {}

  feed(data: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    while (!this.closed) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(MAX_NG_MESSAGE)) return this.fail(1009, "message too big");
        len = Number(big);
        off = 10;
      }
      if (!masked) return this.fail(1002, "client frames must be masked");
      if (len > MAX_NG_MESSAGE) return this.fail(1009, "message too big");
      if (b.length < off + 4 + len) return;
      const mask = b.subarray(off, off + 4);
      const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      this.buf = b.subarray(off + 4 + len);
      this.frame(fin, opcode, payload);
    }
  }

  private frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: {
        if (opcode !== 0) {
          this.fragments = [];
          this.fragmentBinary = opcode === 2;
        }
        this.fragments.push(payload);
        const total = this.fragments.reduce((n, f) => n + f.length, 0);
        if (total > MAX_NG_MESSAGE) return this.fail(1009, "message too big");
        if (fin) {
          const msg = Buffer.concat(this.fragments);
          this.fragments = [];
          void Promise.resolve(this.onMessage(msg, this.fragmentBinary)).catch((e) => log.err(`WebSocket handler failed: ${(e as Error).message}`));
        }
        return;
      }
      case 0x8:
        this.writeFrame(0x8, payload.subarray(0, 2));
        this.closed = true;
        this.socket.end();
        return;
      case 0x9:
        this.writeFrame(0xa, payload);
        return;
      case 0xa:
        return;
      default:
        this.fail(1002, `unknown opcode ${opcode}`);
    }
  }

  send(data: Buffer, binary: boolean): void {
    if (!this.closed) this.writeFrame(binary ? 0x2 : 0x1, data);
  }

  private writeFrame(opcode: number, data: Buffer): void {
    let header: Buffer;
    if (data.length < 126) header = Buffer.from([0x80 | opcode, data.length]);
    else if (data.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(data.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(data.length), 2);
    }
    if (!this.socket.destroyed) this.socket.write(Buffer.concat([header, data]));
  }

  private fail(code: number, why: string): void {
    log.warning(`Closing WebSocket: ${why}`);
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code, 0);
    this.writeFrame(0x8, p);
    this.closed = true;
    this.socket.end();
  }
}
