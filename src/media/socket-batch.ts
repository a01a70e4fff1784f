// SendBatch: many datagrams from many media sockets handed to the shim in one call (sendmmsg per socket run).
import { encodeAddr, type Endpoint } from "../platform/shim-addr.ts";
import { check } from "../platform/shim-errno.ts";
import { TX, TX_HDR_SIZE } from "../platform/shim-abi.ts";
import type { MediaSocket } from "./socket.ts";

export class SendBatch {
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private used = 0;
  private count = 0;
  private owner: MediaSocket["owner"] | null = null;

  constructor(capacityBytes = 256 * 1024) {
    this.buf = new Uint8Array(capacityBytes);
    this.dv = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.count;
  }

  /** Queue one datagram. Returns false when the batch is full (flush, then add again). */
  add(socket: MediaSocket, dst: Endpoint | { address: string; port: number }, data: Uint8Array): boolean {
    const recLen = (TX_HDR_SIZE + data.byteLength + 7) & ~7;
    if (this.used + recLen > this.buf.byteLength) return false;
    const off = this.used;
    this.dv.setUint32(off + TX.recLen, recLen, true);
    this.dv.setInt32(off + TX.handle, socket.handle, true);
    encodeAddr(this.buf, off + TX.dst, dst.address, dst.port);
    this.dv.setUint32(off + TX.len, data.byteLength, true);
    this.buf.set(data, off + TX_HDR_SIZE);
    this.buf.fill(0, off + TX_HDR_SIZE + data.byteLength, off + recLen);
    this.used += recLen;
    this.count++;
    this.owner ??= socket.owner;
    return true;
  }

  /** Send everything queued; returns how many datagrams the kernel accepted. */
  flush(): number {
    if (!this.owner || this.used === 0) return 0;
    const n = check("rtpe_send_batch", this.owner.raw.rtpe_send_batch(this.buf.subarray(0, this.used), this.used));
    this.used = 0;
    this.count = 0;
    return n;
  }
}
