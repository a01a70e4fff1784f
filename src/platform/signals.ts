// Process signals, one API for Bun and Deno (both provide node's process.on for these; kept here so a difference has one home).
export type DaemonSignal = "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGUSR1" | "SIGUSR2";

/** Install a handler; returns a function that removes it. */
export function onSignal(sig: DaemonSignal, handler: () => void): () => void {
  const h = () => handler();
  process.on(sig, h);
  return () => {
    process.off(sig, h);
  };
}
