// The /proc/rtpengine client: creates and deletes a forwarding table, holds its control file, writes rule messages, reads blist.
//
// node:fs on plain descriptors, not the C shim: each call is exactly one open/write/read syscall
// (one message per write(2), as the uapi requires), errors arrive as errno codes, and the table is
// needed before the shim is loaded (--no-fallback decides before anything starts). Nothing here is
// per packet: writes happen per rule change, blist is read about once per second.
import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs";

export const PROC_ROOT = "/proc/rtpengine";

/** A failed /proc operation: `code` is the errno name (ENOENT, EEXIST, EBUSY, EINVAL, ...). */
export class KernelError extends Error {
  constructor(readonly op: string, readonly code: string, detail: string) {
    super(op ? `${op}: ${detail}` : detail);
  }
}

function errnoOf(e: unknown): { code: string; text: string } {
  const err = e as NodeJS.ErrnoException;
  return { code: err?.code ?? "EIO", text: err?.message ?? String(e) };
}

/** Write one text command ("add N" / "del N") to /proc/rtpengine/control. */
function mainControl(root: string, cmd: string): void {
  let fd = -1;
  try {
    fd = openSync(`${root}/control`, "w");
    writeSync(fd, `${cmd}\n`);
  } catch (e) {
    const { code, text } = errnoOf(e);
    throw new KernelError(`'${cmd}' to ${root}/control`, code, text);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Whether xt_RTPENGINE is loaded (its /proc directory exists). */
export function moduleLoaded(root = PROC_ROOT): boolean {
  return existsSync(`${root}/control`);
}

/** One forwarding table owned by this daemon: created at open, its control file held until close. */
export class KernelTable {
  private fd: number;
  private readonly scratch = new Uint8Array(64 * 1024);

  private constructor(readonly id: number, private readonly root: string, fd: number) {
    this.fd = fd;
  }

  /**
   * As rtpengine: delete a left-over table (ENOENT is fine), create it, open its control file.
   * Throws KernelError; the table is deleted again if the control file cannot be held.
   */
  static open(id: number, root = PROC_ROOT): KernelTable {
    if (!moduleLoaded(root)) throw new KernelError("", "ENOENT", `xt_RTPENGINE is not loaded: no ${root}/control`);
    try {
      mainControl(root, `del ${id}`);
    } catch (e) {
      if ((e as KernelError).code !== "ENOENT") throw e;
    }
    mainControl(root, `add ${id}`);
    try {
      return new KernelTable(id, root, openSync(`${root}/${id}/control`, "w"));
    } catch (e) {
      const { code, text } = errnoOf(e);
      try {
        mainControl(root, `del ${id}`);
      } catch {
        /* reported below */
      }
      throw new KernelError(`open ${root}/${id}/control`, code, text);
    }
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Send one message (exactly one write); throws KernelError with the errno the module returned. */
  write(msg: Uint8Array, what: string): void {
    if (this.fd < 0) throw new KernelError(what, "EBADF", "kernel table closed");
    try {
      const n = writeSync(this.fd, msg);
      if (n !== msg.byteLength) throw Object.assign(new Error(`short write ${n}/${msg.byteLength}`), { code: "EIO" });
    } catch (e) {
      const { code, text } = errnoOf(e);
      throw new KernelError(what, code, text);
    }
  }

  /** A fresh snapshot of N/blist (the module snapshots at open; read to EOF). */
  readBlist(): Uint8Array {
    return this.readAll(`${this.root}/${this.id}/blist`);
  }

  /** The human-readable N/list (diagnostics and tests). */
  readList(): string {
    return new TextDecoder().decode(this.readAll(`${this.root}/${this.id}/list`));
  }

  private readAll(path: string): Uint8Array {
    let fd = -1;
    try {
      fd = openSync(path, "r");
      const parts: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const n = readSync(fd, this.scratch, 0, this.scratch.byteLength, null);
        if (n <= 0) break;
        parts.push(this.scratch.slice(0, n));
        total += n;
      }
      const out = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.byteLength;
      }
      return out;
    } catch (e) {
      const { code, text } = errnoOf(e);
      throw new KernelError(`read ${path}`, code, text);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /** Shutdown, as rtpengine: release the control file, then delete the table (and with it every rule). */
  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already gone */
    }
    this.fd = -1;
    mainControl(this.root, `del ${this.id}`);
  }
}
