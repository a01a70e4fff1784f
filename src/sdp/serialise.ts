// SDP text output: CRLF line ends, as rtpengine emits.
import type { SdpLine } from "./types.ts";

export function lineText(l: SdpLine): string {
  return `${l.type}=${l.value}`;
}

export function joinSdp(lines: readonly string[]): string {
  return lines.length ? `${lines.join("\r\n")}\r\n` : "";
}
