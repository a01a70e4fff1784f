// The seam between the call engine and the media plane: what the engine tells media when signalling changes a call.
import type { CallFlags } from "../call/flags.ts";
import type { Call, Monologue } from "../call/model.ts";

export interface MediaHooks {
  /** After an offer or answer: `from` sent the SDP; its flags (`strict source`, `asymmetric`, ...) apply to the packets it sends. */
  signalled(call: Call, from: Monologue, flags: CallFlags): void;
  /** Before a call's ports are released (delete, delete-delay expiry, timeout, shutdown). */
  destroyed(call: Call): void;
}
