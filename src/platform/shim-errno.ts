// Negative errno returns of the shim as typed errors with their symbolic code.

const CODES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 22: "EINVAL",
  23: "ENFILE", 24: "EMFILE", 28: "ENOSPC", 36: "ENAMETOOLONG", 90: "EMSGSIZE", 97: "EAFNOSUPPORT",
  98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 101: "ENETUNREACH", 105: "ENOBUFS", 111: "ECONNREFUSED",
  113: "EHOSTUNREACH", 114: "EALREADY",
};

export class ShimError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(op: string, errno: number) {
    const code = CODES[errno] ?? `errno ${errno}`;
    super(`${op}: ${code}`);
    this.name = "ShimError";
    this.errno = errno;
    this.code = code;
  }
}

/** Return r when non-negative, else throw ShimError for -r. */
export function check(op: string, r: number): number {
  if (r < 0) throw new ShimError(op, -r);
  return r;
}
