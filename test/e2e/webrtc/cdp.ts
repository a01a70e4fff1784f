// Minimal Chrome DevTools Protocol client over Bun's WebSocket: launch-free, attach to a page, evaluate.

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export interface CdpTarget {
  id: string;
  type: string;
  url: string;
  webSocketDebuggerUrl?: string;
}

/** One WebSocket session to one target (page). */
export class CdpSession {
  private nextId = 0;
  private pending = new Map<number, Pending>();
  private listeners = new Map<string, ((params: Record<string, unknown>) => void)[]>();
  private closed = false;

  private constructor(private ws: WebSocket) {
    ws.addEventListener("message", (ev) => this.onMessage(String(ev.data)));
    ws.addEventListener("close", () => this.failAll("CDP socket closed"));
    ws.addEventListener("error", () => this.failAll("CDP socket error"));
  }

  static async connect(url: string, timeoutMs = 5000): Promise<CdpSession> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`CDP connect timeout: ${url}`)), timeoutMs);
      ws.addEventListener("open", () => (clearTimeout(t), resolve()));
      ws.addEventListener("error", () => (clearTimeout(t), reject(new Error(`CDP connect failed: ${url}`))));
    });
    return new CdpSession(ws);
  }

  private failAll(why: string): void {
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(why));
    }
    this.pending.clear();
  }

  private onMessage(text: string): void {
    let msg: { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg.id === "number") {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`CDP error: ${msg.error.message}`));
      else p.resolve(msg.result);
    } else if (msg.method) {
      for (const cb of this.listeners.get(msg.method) ?? []) cb(msg.params ?? {});
    }
  }

  on(method: string, cb: (params: Record<string, unknown>) => void): void {
    const l = this.listeners.get(method) ?? [];
    l.push(cb);
    this.listeners.set(method, l);
  }

  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 10000): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("CDP session closed"));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP timeout: ${method}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluate an expression in the page (awaiting promises); returns its JSON value or throws the page's exception. */
  async evaluate<T>(expression: string, timeoutMs = 15000): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }, timeoutMs)) as {
      result?: { value?: unknown };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`page exception: ${d.exception?.description ?? d.text ?? "unknown"}`);
    }
    return r.result?.value as T;
  }

  close(): void {
    this.closed = true;
    try {
      this.ws.close();
    } catch {
      /* already closed */
    }
  }
}

/** Read the DevTools port and browser path Chromium writes into its profile when started with --remote-debugging-port=0. */
export async function waitDevToolsPort(userDataDir: string, deadlineMs: number, alive: () => boolean): Promise<{ port: number; path: string }> {
  const end = Date.now() + deadlineMs;
  const file = `${userDataDir}/DevToolsActivePort`;
  while (Date.now() < end && alive()) {
    const f = Bun.file(file);
    if (await f.exists()) {
      const [port = "", path = ""] = (await f.text()).split("\n");
      if (Number(port) > 0 && path.startsWith("/")) return { port: Number(port), path };
    }
    await Bun.sleep(100);
  }
  throw new Error(alive() ? "Chromium did not open its DevTools port in time" : "Chromium exited before opening its DevTools port");
}

/** Find the page target whose URL starts with `urlPrefix`. */
export async function findPage(port: number, urlPrefix: string, deadlineMs: number): Promise<CdpTarget> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as CdpTarget[];
      const t = list.find((x) => x.type === "page" && x.url.startsWith(urlPrefix) && x.webSocketDebuggerUrl);
      if (t) return t;
    } catch {
      /* not ready */
    }
    await Bun.sleep(100);
  }
  throw new Error(`no page target for ${urlPrefix}`);
}
