// Reply dictionaries for `query`, `delete` (same statistics), `list` and `statistics`.
import { controlStatistics } from "../control/stats.ts";
import type { NgDict, NgValue } from "../control/types.ts";
import type { CallEngine } from "./engine.ts";
import type { Call, Media, Monologue } from "./model.ts";
import { mediaTotals, streamStatus } from "../media/status.ts";
import { kernelStatistics } from "../kernel/status.ts";
import { BAD_PACKET_KINDS, badPacketCounts } from "../media/bad-packets.ts";

const sec = (ms: number) => Math.floor(ms / 1000);

function endpointDict(address: string, family: 4 | 6, port: number): NgDict {
  return { family: family === 6 ? "IPv6" : "IPv4", address, port };
}

function streamDict(m: Media, rtcp: boolean, now: number): NgDict {
  const d: NgDict = {};
  const local = m.addrs[0];
  if (m.port !== null && local) {
    d["local port"] = m.port + (rtcp ? 1 : 0);
    d["local address"] = local.address;
    d.family = local.family === 6 ? "IPv6" : "IPv4";
  }
  const p = m.peer;
  if (p && p.address !== "") {
    const port = rtcp ? (m.rtcpMuxActive ? p.port : (p.rtcpPort ?? p.port + 1)) : p.port;
    d.endpoint = endpointDict(p.address, p.family, port);
    d["advertised endpoint"] = endpointDict(p.address, p.family, port);
  } else {
    d.endpoint = {};
    d["advertised endpoint"] = {};
  }
  const suite = m.sdesNegotiated?.suite ?? m.sdesOut[0]?.suite;
  if (suite) d["crypto suite"] = suite;
  d["last packet"] = sec(m.stats.lastPacket || now);
  const flags = [rtcp ? "RTCP" : "RTP"];
  if (m.rtcpMuxActive && !rtcp) flags.push("RTCP");
  if (p) flags.push("filled");
  if (m.iceEnabled) flags.push("ICE");
  d.flags = flags;
  d.stats = rtcp ? { packets: 0, bytes: 0, errors: 0 } : { packets: m.stats.packets, bytes: m.stats.bytes, errors: m.stats.errors };
  // media plane: learned endpoint, confirmed/kernelized flags, RTCP counters
  const live = streamStatus(m, rtcp);
  if (live) {
    if (live.endpoint) d.endpoint = endpointDict(live.endpoint.address, live.endpoint.family, live.endpoint.port);
    flags.push(...live.flags);
    if (live.ssrc !== null) d.SSRC = live.ssrc;
    d.stats = live.stats;
    if (live.lastPacket) d["last packet"] = sec(live.lastPacket);
  }
  return d;
}

function mediaDict(m: Media, now: number): NgDict {
  const flags: string[] = [];
  if (m.peer) flags.push("initialized");
  const dir = m.peer?.direction ?? "sendrecv";
  if (dir === "sendrecv" || dir === "sendonly") flags.push("send");
  if (dir === "sendrecv" || dir === "recvonly") flags.push("recv");
  if (m.rtcpMuxActive) flags.push("rtcp-mux");
  if (m.dtlsFingerprintHash) flags.push("DTLS-SRTP");
  if (m.sdesOut.length) flags.push("SDES");
  if (m.iceEnabled) flags.push("ICE");
  if (m.iceControlling) flags.push("ICE controlling");
  return {
    index: m.index + 1,
    type: m.type,
    protocol: m.proto ?? m.peer?.proto ?? "",
    streams: [streamDict(m, false, now), streamDict(m, true, now)],
    flags,
  };
}

function tagDict(mono: Monologue, now: number): NgDict {
  const d: NgDict = { tag: mono.tagged ? mono.tag : "" };
  if (mono.label !== null) d.label = mono.label;
  d.created = sec(mono.created);
  const peer = mono.peer && !mono.peer.deleted ? [{ tag: mono.peer.tagged ? mono.peer.tag : "", type: "offer/answer" }] : [];
  d.subscriptions = peer;
  d.subscribers = peer.map((x) => ({ ...x }));
  d.medias = mono.medias.map((m) => mediaDict(m, now));
  return d;
}

/**
 * The `query` reply (also appended to `delete` replies). Untagged parties appear as `<untagged N>`;
 * a given from-tag puts that party first.
 */
export function callStats(call: Call, fromTag?: string | null): NgDict {
  const tags: NgDict = {};
  const now = Date.now();
  let rtp = { packets: 0, bytes: 0, errors: 0 };
  let untagged = 0;
  const first = fromTag ? call.all.filter((m) => m.tagged && m.tag === fromTag) : [];
  for (const m of [...first, ...call.all.filter((x) => !first.includes(x))]) {
    tags[m.tagged ? m.tag : `<untagged ${++untagged}>`] = tagDict(m, now);
    for (const md of m.medias) rtp = { packets: rtp.packets + md.stats.packets, bytes: rtp.bytes + md.stats.bytes, errors: rtp.errors + md.stats.errors };
  }
  return {
    created: sec(call.created),
    created_us: (call.created % 1000) * 1000,
    "last signal": sec(call.lastSignal),
    SSRC: {},
    tags,
    totals: { RTP: rtp, RTCP: rtcpTotals(call) },
  };
}

/** RTCP counters of every stream, from the media plane (zero without one). */
function rtcpTotals(call: Call): { packets: number; bytes: number; errors: number } {
  const t = { packets: 0, bytes: 0, errors: 0 };
  for (const m of call.all) for (const md of m.medias) {
    const s = streamStatus(md, true)?.stats;
    if (s) (t.packets += s.packets), (t.bytes += s.bytes), (t.errors += s.errors);
  }
  return t;
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
  // media plane: slow path ("user") and fast path ("kernel") since start, timeouts by kind
  const mt = mediaTotals();
  const user = mt?.user ?? { packets, bytes, errors };
  const fast = mt?.fast ?? { packets: 0, bytes: 0, errors: 0 };
  const to = mt?.timeouts ?? { timeout: t.timeouts, silent: 0, final: 0, offer: 0 };
  const f6 = (n: number) => n.toFixed(6);
  const ports = engine.opts.ports;
  const { min, max } = engine.portRange();
  const interfaces = engine.opts.interfaces.all().map((i) => {
    const used = ports.inUse(i.address);
    const total = max - min + 1;
    return { name: i.name, address: i.address, ports: { min, max, used, used_pct: ((used * 100) / total).toFixed(2), free: total - used, totals: total } };
  });
  return {
    statistics: {
      currentstatistics: {
        sessionsown: engine.calls.size,
        sessionsforeign: 0,
        sessionstotal: engine.calls.size,
        transcodedmedia: 0,
        packetrate_user: 0,
        byterate_user: 0,
        errorrate_user: 0,
        packetrate_kernel: 0,
        byterate_kernel: 0,
        errorrate_kernel: 0,
        packetrate: 0,
        byterate: 0,
        errorrate: 0,
        media_userspace: mt?.media.userspace ?? 0,
        media_kernel: mt?.media.kernel ?? 0,
        media_mixed: mt?.media.mixed ?? 0,
        // ours, not in 10.5: whether forwarding reaches the kernel, and how often a rule fell back to userspace
        ...kernelStatistics(),
      },
      totalstatistics: {
        uptime: String(sec(Date.now() - engine.started)),
        managedsessions: t.managedSessions,
        rejectedsessions: t.rejectedSessions,
        timeoutsessions: to.timeout,
        silenttimeoutsessions: to.silent,
        finaltimeoutsessions: to.final,
        offertimeoutsessions: to.offer,
        regularterminatedsessions: t.deleted - (mt ? to.timeout + to.silent + to.final + to.offer : 0),
        forcedterminatedsessions: 0,
        relayedpackets_user: user.packets,
        relayedpacketerrors_user: user.errors,
        relayedbytes_user: user.bytes,
        relayedpackets_kernel: fast.packets,
        relayedpacketerrors_kernel: fast.errors,
        relayedbytes_kernel: fast.bytes,
        relayedpackets: user.packets + fast.packets,
        relayedpacketerrors: user.errors + fast.errors,
        relayedbytes: user.bytes + fast.bytes,
        zerowaystreams: mt?.ways.zero ?? 0,
        onewaystreams: mt?.ways.one ?? 0,
        avgcallduration: f6(0),
        totalcallsduration: f6(0),
        totalcallsduration2: f6(0),
        totalcallsduration_stddev: f6(0),
        // ours, not in 10.5: the bad input inside relayedpacketerrors, by kind (also rtpengine_bad_packets_total)
        ...badPacketStatistics(),
      },
      intervalstatistics: intervalStatistics(),
      mos: { mos_total: f6(0), mos2_total: f6(0), mos_samples_total: 0, mos_average: f6(0), mos_stddev: f6(0) },
      controlstatistics: controlStatistics(),
      interfaces,
      transcoders: [],
    },
  };
}

/** `badpackets_<kind>` totals since start (SRTP auth/replay, truncated, bad STUN, DTLS garbage). */
function badPacketStatistics(): Record<string, number> {
  const c = badPacketCounts();
  const out: Record<string, number> = {};
  for (const k of BAD_PACKET_KINDS) out[`badpackets_${k}`] = c[k];
  return out;
}

/** Per-interval figures; we keep no interval history yet, so they read as rtpengine's idle values. */
function intervalStatistics(): NgDict {
  const z = "0.000000";
  const d: NgDict = { totalcallsduration: z, minmanagedsessions: 0, maxmanagedsessions: 0 };
  const cmds = ["ping", "offer", "answer", "delete", "query", "list", "start recording", "stop recording", "start forwarding", "stop forwarding", "block DTMF", "unblock DTMF", "block media", "unblock media", "play media", "stop media", "play DTMF", "statistics", "silence media", "unsilence media", "publish", "subscribe request", "subscribe answer", "unsubscribe"];
  for (const c of cmds) {
    d[`min${c}delay`] = z;
    d[`max${c}delay`] = z;
    d[`avg${c}delay`] = z;
  }
  for (const c of cmds) {
    d[`min${c}requestrate`] = "0";
    d[`max${c}requestrate`] = "0";
    d[`avg${c}requestrate`] = "0";
  }
  return d;
}
