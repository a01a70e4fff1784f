// Reply dictionaries for `query`, `delete` (same statistics), `list` and `statistics`.
import type { NgDict, NgValue } from "../control/types.ts";
import type { CallEngine } from "./engine.ts";
import type { Call, Media, Monologue } from "./model.ts";

const sec = (ms: number) => Math.floor(ms / 1000);

function streamDict(m: Media, rtcp: boolean): NgDict {
  const d: NgDict = {};
  if (m.port !== null) d["local port"] = m.port + (rtcp ? 1 : 0);
  if (m.addrs[0]) d["local address"] = m.addrs[0].address;
  const p = m.peer;
  if (p) {
    const port = rtcp ? (p.rtcpPort ?? (p.rtcpMux ? p.port : p.port + 1)) : p.port;
    const ep = { family: p.family === 6 ? "IPv6" : "IPv4", address: p.address, port };
    d.endpoint = ep;
    d["advertised endpoint"] = { ...ep };
  }
  d["last packet"] = sec(m.stats.lastPacket);
  d.flags = [rtcp ? "RTCP" : "RTP", ...(p ? ["filled"] : [])];
  d.stats = { packets: rtcp ? 0 : m.stats.packets, bytes: rtcp ? 0 : m.stats.bytes, errors: rtcp ? 0 : m.stats.errors };
  return d;
}

function mediaDict(m: Media): NgDict {
  const flags: string[] = [];
  if (m.port !== null) flags.push("initialized");
  if (m.rtcpMuxOffered || m.rtcpMuxAccept) flags.push("rtcp-mux");
  if (m.sdesOut.length) flags.push("SDES");
  if (m.dtlsFingerprintHash) flags.push("DTLS-SRTP");
  if (m.iceEnabled) flags.push("ICE");
  return {
    index: m.index + 1,
    type: m.type,
    protocol: m.proto ?? m.peer?.proto ?? "",
    flags,
    streams: [streamDict(m, false), streamDict(m, true)],
  };
}

function tagDict(mono: Monologue): NgDict {
  const d: NgDict = { tag: mono.tagged ? mono.tag : "", created: sec(mono.created) };
  if (mono.label !== null) d.label = mono.label;
  if (mono.peer && mono.peer.tagged) d["in dialogue with"] = mono.peer.tag;
  d.medias = mono.medias.map(mediaDict);
  return d;
}

/** The `query` reply (also appended to `delete` replies). */
export function callStats(call: Call, fromTag?: string | null, toTag?: string | null): NgDict {
  const tags: NgDict = {};
  let rtp = { packets: 0, bytes: 0, errors: 0 };
  for (const m of call.all) {
    if (fromTag && toTag && m.tag !== fromTag && m.tag !== toTag) continue;
    tags[m.tagged ? m.tag : ""] = tagDict(m);
    for (const md of m.medias) rtp = { packets: rtp.packets + md.stats.packets, bytes: rtp.bytes + md.stats.bytes, errors: rtp.errors + md.stats.errors };
  }
  return {
    created: sec(call.created),
    created_us: (call.created % 1000) * 1000,
    "last signal": sec(call.lastSignal),
    "last redis update": 0,
    SSRC: {},
    tags,
    totals: { RTP: rtp, RTCP: { packets: 0, bytes: 0, errors: 0 } },
  };
}

export function listReply(engine: CallEngine, limit: number): NgDict {
  const calls: NgValue[] = [];
  for (const id of engine.calls.keys()) {
    if (calls.length >= limit) break;
    calls.push(id);
  }
  return { calls };
}

export function statisticsReply(engine: CallEngine): NgDict {
  let packets = 0;
  let bytes = 0;
  let errors = 0;
  for (const c of engine.calls.values()) for (const m of c.all) for (const md of m.medias) {
    packets += md.stats.packets;
    bytes += md.stats.bytes;
    errors += md.stats.errors;
  }
  const t = engine.totals;
  return {
    statistics: {
      currentstatistics: {
        sessionsown: engine.calls.size,
        sessionsforeign: 0,
        sessionstotal: engine.calls.size,
        transcodedmedia: 0,
        packetrate: 0,
        byterate: 0,
        errorrate: 0,
      },
      totalstatistics: {
        uptime: String(sec(Date.now() - engine.started)),
        managedsessions: t.managedSessions,
        rejectedsessions: t.rejectedSessions,
        timeoutsessions: t.timeouts,
        silenttimeoutsessions: 0,
        finaltimeoutsessions: 0,
        offertimeoutsessions: 0,
        regularterminatedsessions: t.deleted,
        forcedterminatedsessions: 0,
        relayedpackets: packets,
        relayedpacketerrors: errors,
        relayedbytes: bytes,
        zerowaystreams: 0,
        onewaystreams: 0,
        avgcallduration: "0.000000",
      },
    },
  };
}
