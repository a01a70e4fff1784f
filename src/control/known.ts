// The ng command names rtpengine 10.5 documents; a documented command without a handler answers "not implemented".
export const DOCUMENTED_NG_COMMANDS: readonly string[] = [
  "ping",
  "offer",
  "answer",
  "delete",
  "list",
  "query",
  "start recording",
  "stop recording",
  "block DTMF",
  "unblock DTMF",
  "block media",
  "unblock media",
  "silence media",
  "unsilence media",
  "start forwarding",
  "stop forwarding",
  "play media",
  "stop media",
  "play DTMF",
  "statistics",
  "publish",
  "subscribe request",
  "subscribe answer",
  "unsubscribe",
];

const byLower = new Map(DOCUMENTED_NG_COMMANDS.map((c) => [c.toLowerCase(), c]));

/** The documented (case-exact) spelling of a command, if rtpengine documents it in any case. */
export function documentedSpelling(name: string): string | undefined {
  return byLower.get(name.toLowerCase());
}

/** True only for the exact documented spelling: rtpengine matches command names case-sensitively. */
export function isDocumentedCommand(name: string): boolean {
  return byLower.get(name.toLowerCase()) === name;
}
