// Which ICE role and mode we take towards one peer, from offer direction, ICE-lite flags and ICE-reverse.

/** ng `ICE-lite` values (offer only); absent = keep what the call had. */
export type IceLiteFlag = "forward" | "backward" | "both" | "off";

/** Whether we are ICE-lite towards the offerer's and the answerer's side after an offer's ICE-lite flag. */
export function liteSides(flag: IceLiteFlag | undefined, current: { offerer: boolean; answerer: boolean }): { offerer: boolean; answerer: boolean } {
  switch (flag) {
    case "forward": return { offerer: current.offerer, answerer: true }; // towards the peer the offer goes to
    case "backward": return { offerer: true, answerer: current.answerer }; // towards the peer that sent it
    case "both": return { offerer: true, answerer: true };
    case "off": return { offerer: false, answerer: false };
    default: return current;
  }
}

export interface RoleInput {
  /** we sent the offer to this peer (we are the offerer in this peer's session) */
  weOffer: boolean;
  weLite: boolean;
  peerLite: boolean;
  /** ng flag `ICE-reverse`: take the other role than RFC 8445 would give us */
  reverse?: boolean;
}

/**
 * RFC 8445 6.1.1: between two full agents the offerer controls; a full agent facing a lite one
 * controls; a lite agent never does unless both are lite, where the offerer does.
 * rtpengine 10.5 behaves this way (see test/unit/ice-rtpengine.test.ts).
 */
export function iceControlling(i: RoleInput): boolean {
  let controlling: boolean;
  if (i.weLite !== i.peerLite) controlling = !i.weLite;
  else controlling = i.weOffer;
  return i.reverse ? !controlling : controlling;
}
