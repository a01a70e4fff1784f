// Shared ng-protocol value types: the seam between the transports, the codec and the command handlers.

/** A decoded bencode/JSON value. Byte strings are decoded as latin1 JS strings, so bytes round-trip exactly. */
export type NgValue = string | number | NgValue[] | NgDict;
export interface NgDict {
  [key: string]: NgValue;
}

/** Where a request came from; handlers use it for `received from`-style defaults and logging. */
export interface NgContext {
  transport: "udp" | "tcp" | "http" | "ws";
  /** remote address and port of the SIP proxy */
  remoteAddress: string;
  remotePort: number;
}

/** An error the SIP proxy caused: becomes `result: error` with this `error-reason`. */
export class NgError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "NgError";
  }
}

/** A command handler gets the whole request dictionary and returns the reply dictionary (without `result` when ok). */
export type NgHandler = (req: NgDict, ctx: NgContext) => NgDict | Promise<NgDict>;
