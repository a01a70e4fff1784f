// Typed ng flag parsing: spellings rtpengine accepts, prefixed flags, and bad values.
import { describe, expect, test } from "bun:test";
import { parseCallFlags } from "../../src/call/flags.ts";
import { NgError } from "../../src/control/types.ts";

describe("parseCallFlags", () => {
  test("keys with spaces, hyphens or underscores are the same key", () => {
    for (const key of ["transport protocol", "transport-protocol", "transport_protocol"]) {
      expect(parseCallFlags({ "call-id": "c", [key]: "RTP/SAVP" }).transportProtocol).toBe("RTP/SAVP");
    }
    expect(parseCallFlags({ "call-id": "c", "media address": "192.0.2.1" }).mediaAddress).toBe("192.0.2.1");
  });

  test("flags list is normalised: case, spaces and hyphens", () => {
    const f = parseCallFlags({ "call-id": "c", flags: ["Trust Address", "strict-source", "loop protect", "generate_mid", "trickle ICE"] });
    for (const n of ["trust-address", "strict-source", "loop-protect", "generate-mid", "trickle-ice"]) expect(f.flags.has(n)).toBe(true);
  });

  test("codec-* flags land in the codec lists and keep the codec's case", () => {
    const f = parseCallFlags({ "call-id": "c", flags: ["codec-strip-PCMA", "codec-mask-all", "codec-transcode-opus/48000/2", "codec-offer-telephone-event", "codec-except-G722", "codec-consume-PCMU", "codec-accept-CN", "codec-set-AMR/8000/1/7400"] });
    expect(f.codec.strip).toEqual(["PCMA"]);
    expect(f.codec.mask).toEqual(["all"]);
    expect(f.codec.transcode).toEqual(["opus/48000/2"]);
    expect(f.codec.offer).toEqual(["telephone-event"]);
    expect(f.codec.except).toEqual(["G722"]);
    expect(f.codec.consume).toEqual(["PCMU"]);
    expect(f.codec.accept).toEqual(["CN"]);
    expect(f.codec.set).toEqual(["AMR/8000/1/7400"]);
  });

  test("codec dictionary", () => {
    const f = parseCallFlags({ "call-id": "c", codec: { strip: ["all"], transcode: ["G722"], mask: "PCMA" } });
    expect(f.codec.strip).toEqual(["all"]);
    expect(f.codec.transcode).toEqual(["G722"]);
    expect(f.codec.mask).toEqual(["PCMA"]);
  });

  test("SDES list, SDES- flags and legacy pad crypto", () => {
    const f = parseCallFlags({ "call-id": "c", SDES: ["no-AES_CM_128_HMAC_SHA1_80", "lifetime"], flags: ["SDES-no-NULL_HMAC_SHA1_32", "pad crypto"] });
    expect([...f.sdes.noSuites].sort()).toEqual(["AES_CM_128_HMAC_SHA1_80", "NULL_HMAC_SHA1_32"]);
    expect(f.sdes.lifetime).toBe(true);
    expect(f.sdes.pad).toBe(true);
    expect(parseCallFlags({ "call-id": "c", SDES: ["off"] }).sdes.off).toBe(true);
    // 10.5 only reads SDES as a list: a bare string has no effect
    expect(parseCallFlags({ "call-id": "c", SDES: "off" }).sdes.off).toBe(false);
  });

  test("replace, rtcp-mux, ICE, DTLS, address family", () => {
    const f = parseCallFlags({ "call-id": "c", replace: ["origin", "session connection", "SDP version"], flags: ["replace-zero-address"], "rtcp-mux": ["demux", "offer"], ICE: "force", "ICE-lite": "backward", DTLS: "off", "DTLS-reverse": "passive", "address-family": "IP6" });
    expect([...f.replace].sort()).toEqual(["origin", "sdp-version", "session-connection", "zero-address"]);
    expect(f.rtcpMux.demux && f.rtcpMux.offer && !f.rtcpMux.reject).toBe(true);
    expect(f.ice).toBe("force");
    expect(f.iceLite).toBe("backward");
    expect(f.dtls).toBe("off");
    expect(f.dtlsReverse).toBe("passive");
    expect(f.addressFamily).toBe(6);
  });

  test("unknown option values are ignored like rtpengine 10.5 does", () => {
    const f = parseCallFlags({ "call-id": "c", ICE: "bogus", "transport-protocol": "bogus", "address-family": "IP9" });
    expect(f.ice).toBeNull();
    expect(f.transportProtocol).toBeNull();
    expect(f.addressFamily).toBeNull();
  });

  test("structurally wrong values are an NgError, not a crash", () => {
    expect(() => parseCallFlags({ "from-tag": "a" })).toThrow("No call-id in message");
    expect(() => parseCallFlags({ "call-id": "c", codec: "strip" })).toThrow(NgError);
    expect(() => parseCallFlags({ "call-id": "c", ptime: "abc" })).toThrow(NgError);
    expect(() => parseCallFlags({ "call-id": "c", flags: [{ x: 1 }] })).toThrow(NgError);
    expect(() => parseCallFlags({ "call-id": ["x"] })).toThrow(NgError);
  });

  test("always transcode is codec-accept=all", () => {
    expect(parseCallFlags({ "call-id": "c", flags: ["always transcode"] }).codec.accept).toEqual(["all"]);
  });
});
