// SDP data model: an ordered list of lines per section, so that unknown lines keep their place on output.

export interface SdpLine {
  /** the one-letter type, e.g. "a", "c", "b" */
  type: string;
  /** everything after "x=" */
  value: string;
}

export interface SdpConnection {
  netType: string;
  addrType: "IP4" | "IP6";
  address: string;
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpMedia {
  type: string;
  port: number;
  /** the "/n" port count of the m= line, null if absent */
  portCount: number | null;
  proto: string;
  formats: string[];
  /** lines after m=, in order */
  lines: SdpLine[];
}

export interface SdpSession {
  /** session-level lines (v=, o=, s=, c=, t=, a=, ...) in order */
  lines: SdpLine[];
  media: SdpMedia[];
  /** further sessions in the same body (each starting with its own v=); rtpengine rewrites them all */
  more: SdpSession[];
}

/** Every session of a body, the first one included. */
export function sessionsOf(sdp: SdpSession): SdpSession[] {
  return sdp.more.length ? [sdp, ...sdp.more] : [sdp];
}

/** Split an attribute value "name:rest" into its name and value. */
export function splitAttr(value: string): { name: string; value: string | null } {
  const i = value.indexOf(":");
  return i < 0 ? { name: value, value: null } : { name: value.slice(0, i), value: value.slice(i + 1) };
}

/** rtpengine cannot rewrite a c= line that comes after an a= line of its section (it answers "Error rewriting SDP"). */
export function connAfterAttributes(sdp: SdpSession): boolean {
  const bad = (lines: readonly SdpLine[]) => {
    const a = lines.findIndex((l) => l.type === "a");
    return a >= 0 && lines.some((l, i) => i > a && l.type === "c");
  };
  return sessionsOf(sdp).some((s) => bad(s.lines) || s.media.some((m) => bad(m.lines)));
}
