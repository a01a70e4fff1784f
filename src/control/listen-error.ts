// The one error type for a control listener that cannot bind: carries the option name for the one-line startup error.
export class ListenError extends Error {
  constructor(
    readonly option: string,
    readonly where: string,
    readonly reason: string,
  ) {
    super(where ? `${option}: cannot listen on ${where}: ${reason}` : `${option}: ${reason}`);
    this.name = "ListenError";
  }
}

export function describeBindError(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  if (code === "EADDRINUSE") return "address already in use";
  if (code === "EADDRNOTAVAIL") return "address not available on this host";
  if (code === "EACCES") return "permission denied";
  return (e as Error)?.message ?? String(e);
}

export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
