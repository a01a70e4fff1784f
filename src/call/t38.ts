// T.38 gateway SDP: the fax parameters rtpengine offers when it turns audio into T.38 (or back).
import type { CallFlags } from "./flags.ts";

/** The T.38 attributes of a generated `m=image ... udptl t38` section; `T.38: FEC` picks FEC over redundancy. */
export function t38Attrs(f: CallFlags): string[] {
  return [
    "T38FaxVersion:0",
    "T38MaxBitRate:14400",
    "T38FaxRateManagement:transferredTCF",
    "T38FaxMaxBuffer:1800",
    "T38FaxMaxDatagram:512",
    `T38FaxUdpEC:${f.t38.has("fec") ? "t38UDPFEC" : "t38UDPRedundancy"}`,
  ];
}
