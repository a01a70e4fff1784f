// The SDP rewriter: kept lines stay in place, rtpengine's own attributes follow in its fixed order.
import { describe, expect, test } from "bun:test";
import { codecsOfMedia } from "../../src/codec/codec.ts";
import { parseSdp } from "../../src/sdp/parse.ts";
import { type MediaOut, rewriteSdp } from "../../src/sdp/rewrite.ts";

const IN = [
  "v=0", "o=- 1 2 IN IP4 198.51.100.1", "s=x", "c=IN IP4 198.51.100.1", "t=0 0", "a=group:BUNDLE 0", "a=ice-ufrag:zz", "a=sendrecv", "a=tool:foo",
  "m=audio 2000 RTP/AVP 0 101", "b=AS:64", "a=rtpmap:101 telephone-event/8000", "a=ptime:20", "a=mid:0", "a=x-custom:1", "a=rtcp:2001", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Qk0TvVeyfqfjFd/YebnyyklqSEhJntpVKV1KAhHa", "a=candidate:1 1 UDP 1 198.51.100.1 2000 typ host", "a=extmap:1 urn:x", "a=sendonly", "",
].join("\r\n");

function out(over: Partial<MediaOut>): MediaOut {
  const sdp = parseSdp(IN);
  return {
    port: 30000, proto: "RTP/SAVP", codecs: codecsOfMedia(sdp.media[0]!), conn: { addrType: "IP4", address: "203.0.113.1" }, mid: "0",
    direction: "sendonly", rtcp: "30001", rtcpMux: true, crypto: ["crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY"], setup: "actpass",
    fingerprint: "sha-256 AA", ice: { ufrag: "u", pwd: "p", trickle: true, candidates: ["candidate:F 1 UDP 2130706431 203.0.113.1 30000 typ host"] },
    keepPeerIce: false, extraCandidates: [], ptime: 20, stripExtmap: false, originalSendrecv: false, passthrough: false, ...over,
  };
}

describe("rewriteSdp", () => {
  test("order: kept lines, mid, codecs, direction, rtcp, rtcp-mux, crypto, DTLS, ptime, ICE", () => {
    const sdp = parseSdp(IN);
    const text = rewriteSdp(sdp, { origin: "- 1 2 IN IP4 203.0.113.1", conn: { addrType: "IP4", address: "203.0.113.1" }, iceLite: true, attrs: ["rtpengine:abc"], sessionName: null }, [out({})]);
    expect(text.split("\r\n")).toEqual([
      "v=0", "o=- 1 2 IN IP4 203.0.113.1", "s=x", "c=IN IP4 203.0.113.1", "t=0 0", "a=tool:foo", "a=rtpengine:abc", "a=ice-lite",
      "m=audio 30000 RTP/SAVP 0 101", "b=AS:64", "a=x-custom:1", "a=extmap:1 urn:x", "a=mid:0",
      "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=sendonly", "a=rtcp:30001", "a=rtcp-mux",
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY", "a=setup:actpass", "a=fingerprint:sha-256 AA", "a=ptime:20",
      "a=ice-ufrag:u", "a=ice-pwd:p", "a=ice-options:trickle", "a=candidate:F 1 UDP 2130706431 203.0.113.1 30000 typ host", "a=end-of-candidates", "",
    ]);
  });

  test("strip extmap, original sendrecv, rejected media", () => {
    const sdp = parseSdp(IN);
    const t1 = rewriteSdp(sdp, { origin: null, conn: null, iceLite: false, attrs: [], sessionName: null }, [out({ stripExtmap: true, originalSendrecv: true })]);
    expect(t1).not.toContain("a=extmap");
    expect(t1).toContain("a=x-custom:1\r\na=sendonly\r\n");
    const t2 = rewriteSdp(sdp, { origin: null, conn: null, iceLite: false, attrs: [], sessionName: null }, [out({ port: 0 })]);
    expect(t2).toContain("m=audio 0 RTP/SAVP 0 101\r\nb=AS:64\r\na=x-custom:1\r\na=extmap:1 urn:x\r\na=mid:0\r\n");
    expect(t2).not.toContain("a=rtpmap");
  });
});
