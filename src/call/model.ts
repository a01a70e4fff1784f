// Call state: call (call-id) -> monologue (SIP tag) -> media (m= line) with its local ports and negotiated SDP state.
import type { Codec } from "../codec/codec.ts";
import type { SdesCrypto } from "../crypto/sdes-sdp.ts";
import type { SecureSpec } from "../crypto/secure-spec.ts";
import type { IceCredentials } from "../ice/sdp.ts";
import type { InterfaceSpec } from "../config/types.ts";

/** The usual `sdesNo`: nothing excluded (one shared empty set, not one per media). */
export const NO_SDES_SUITES: ReadonlySet<string> = new Set<string>();

/** What one endpoint said about one m= section in its latest SDP. */
export interface PeerMedia {
  type: string;
  proto: string;
  port: number;
  address: string;
  family: 4 | 6;
  zeroAddress: boolean;
  rtcpPort: number | null;
  rtcpMux: boolean;
  codecs: Codec[];
  direction: string;
  hasIce: boolean;
  /** priorities of the endpoint's host candidates (for ICE=optional) */
  hostPriorities: number[];
  iceUfrag: string | null;
  /** media: ICE password, a=candidate values and ice-lite of the endpoint (for our ICE agent) */
  icePwd: string | null;
  iceCandidates: string[];
  iceLite: boolean;
  trickle: boolean;
  cryptos: SdesCrypto[];
  fingerprint: string | null;
  setup: string | null;
  ptime: number | null;
  mid: string | null;
}

/** One m= section as it faces one endpoint: our local ports on that endpoint's side and what we told it. */
export interface Media {
  index: number;
  type: string;
  interfaceName: string;
  /** local addresses, preferred family first (candidate order) */
  addrs: InterfaceSpec[];
  family: 4 | 6;
  /** RTP port on every address of `addrs`; RTCP is port + 1. null = not allocated */
  port: number | null;
  /** latest SDP info from this side's endpoint */
  peer: PeerMedia | null;
  /** protocol we talk to this endpoint */
  proto: string | null;
  ice: IceCredentials | null;
  iceEnabled: boolean;
  /** crypto lines we sent to this endpoint (SDES) */
  sdesOut: SdesCrypto[];
  /** crypto lines of the peer we passed through unchanged (SRTP passthrough candidates) */
  sdesPassthrough: SdesCrypto[];
  rtcpMuxOffered: boolean;
  /** rtcp-mux negotiated with this endpoint (then only one ICE component is listed) */
  rtcpMuxActive: boolean;
  rtcpMuxAccept: boolean;
  /** codecs we offered to this endpoint (incl. added ones) */
  codecsSent: Codec[];
  /** ptime forced towards this endpoint (`ptime` when it receives the offer, `ptime-reverse` when it sent it) */
  ptimeOverride: number | null;
  /** packetisation time last known for this stream (sticky: an SDP without a=ptime keeps it) */
  ptime: number | null;
  /** offerer-side: the offer engaged the transcoder (codecs added, ptime change): answers keep the offerer's ptime */
  transcoding: boolean;
  dtlsFingerprintHash: string | null;
  dtlsPassive: boolean;
  mid: string | null;
  /** offerer-side: codecs consumed/accepted for transcoding at offer time, used when answering */
  consumed: Codec[];
  accepted: Codec[];
  acceptAll: boolean;
  /** offerer-side: codecs hidden from the answerer by `mask`, and whether the list was filtered at all */
  masked: Codec[];
  codecsFiltered: boolean;
  /** offerer-side: DTLS role preference for the answer (`DTLS-reverse`) */
  dtlsReverse: "default" | "off" | "passive" | "active";
  /** offerer-side: SDES suite restrictions given in the offer, applied to the answer too */
  sdesNo: ReadonlySet<string>;
  /** protocol this endpoint answered with (offers to it keep using it) */
  learnedProto: string | null;
  /** `transport-protocol` override given for this side, kept for re-offers that do not repeat it */
  protoOverride: string | null;
  /** SDES switched off for this side (sticky like the protocol) */
  sdesOff: boolean;
  /** our crypto line the endpoint accepted in its answer: re-offers list it first, unchanged */
  sdesNegotiated: SdesCrypto | null;
  /** offerer-side: the offer went on with the offerer's own ICE (ICE=optional on ICE SDP) */
  iceOptionalKept: boolean;
  /** we sent this endpoint an offer, so we are the ICE controlling agent towards it */
  iceControlling: boolean;
  /** offerer-side: T.38 gateway engaged at offer time (`T.38: force` audio->fax, `decode` fax->audio) */
  t38: "force" | "decode" | null;
  /** answerer-side: ICE support learned from this endpoint's answer (null = not known yet) */
  peerIce: boolean | null;
  /** ICE support as shown in this endpoint's last answer (null = it has not answered) */
  peerIceAnswered: boolean | null;
  /** SRTP towards this endpoint as settled by the answer (SDES keys or DTLS role); null = plain or passthrough */
  secure: SecureSpec | null;
  /** packet counters, filled in by the media plane */
  stats: { packets: number; bytes: number; errors: number; lastPacket: number };
}

export interface Monologue {
  tag: string;
  /** via-branch this monologue was created for, if any (branched offers) */
  viaBranch: string | null;
  label: string | null;
  created: number;
  medias: Media[];
  /** the monologue this one talks to */
  peer: Monologue | null;
  /** branches of a forked offer, keyed by via-branch ("" when none) */
  branches: Map<string, Monologue>;
  /** logical interface this endpoint's media live on (remembered for re-offers) */
  interfaceName: string | null;
  /** we act as ICE-lite toward this endpoint */
  iceLite: boolean;
  /** `replace: username` / `replace: session-name`: what this endpoint was first shown */
  sdpUsername: string | null;
  sdpSessionName: string | null;
  /** SDP version control (`replace: SDP version`) */
  lastSdpIn: string | null;
  lastSdpOut: string | null;
  sdpVersion: bigint | null;
  /** the monologue's endpoint has answered/offered (it has a known tag) */
  tagged: boolean;
  deleted: boolean;
}

export interface Call {
  callId: string;
  created: number;
  lastSignal: number;
  monologues: Map<string, Monologue>;
  /** every monologue including untagged branches, in creation order */
  all: Monologue[];
  /** timer of a pending delete-delay, if any */
  deleteTimer: ReturnType<typeof setTimeout> | null;
  createdFrom: string | null;
}

export function newMonologue(tag: string, viaBranch: string | null, now: number): Monologue {
  return {
    tag,
    viaBranch,
    label: null,
    created: now,
    medias: [],
    peer: null,
    branches: new Map(),
    interfaceName: null,
    iceLite: false,
    sdpUsername: null,
    sdpSessionName: null,
    lastSdpIn: null,
    lastSdpOut: null,
    sdpVersion: null,
    tagged: tag !== "",
    deleted: false,
  };
}

export function newMedia(index: number, type: string): Media {
  return {
    index,
    type,
    interfaceName: "",
    addrs: [],
    family: 4,
    port: null,
    peer: null,
    proto: null,
    ice: null,
    iceEnabled: false,
    sdesOut: [],
    sdesPassthrough: [],
    rtcpMuxOffered: false,
    rtcpMuxActive: false,
    rtcpMuxAccept: false,
    codecsSent: [],
    ptimeOverride: null,
    ptime: null,
    transcoding: false,
    dtlsFingerprintHash: null,
    dtlsPassive: false,
    mid: null,
    consumed: [],
    accepted: [],
    acceptAll: false,
    masked: [],
    codecsFiltered: false,
    dtlsReverse: "default",
    sdesNo: NO_SDES_SUITES,
    peerIce: null,
    peerIceAnswered: null,
    t38: null,
    iceControlling: false,
    iceOptionalKept: false,
    protoOverride: null,
    learnedProto: null,
    sdesOff: false,
    sdesNegotiated: null,
    secure: null,
    stats: { packets: 0, bytes: 0, errors: 0, lastPacket: 0 },
  };
}
