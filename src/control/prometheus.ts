// The Prometheus exporter on --listen-http(s) GET /metrics: rtpengine 10.5's metric names over the engine's statistics and our control counters.
import type { CallEngine } from "../call/engine.ts";
import { statisticsReply } from "../call/query.ts";
import { BAD_PACKET_KINDS, badPacketCounts } from "../media/bad-packets.ts";
import { registerHttpRoute } from "./http.ts";
import { proxyCounters } from "./stats.ts";
import type { NgDict, NgValue } from "./types.ts";

// the ng commands in rtpengine's order, as they appear in the `request` label
const REQUESTS = [
  "ping", "offer", "answer", "delete", "query", "list", "start recording", "stop recording", "start forwarding",
  "stop forwarding", "block DTMF", "unblock DTMF", "block media", "unblock media", "play media", "stop media", "play DTMF",
  "statistics", "silence media", "unsilence media", "publish", "subscribe request", "subscribe answer", "unsubscribe",
];

const esc = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

class Exposition {
  private out: string[] = [];
  /** HELP/TYPE once, then one sample per label set */
  metric(name: string, type: "gauge" | "counter", help: string | null, samples: Array<[Record<string, string>, NgValue | undefined]>): void {
    if (help !== null) this.out.push(`# HELP ${name} ${help}`);
    this.out.push(`# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.sample(name, l, v);
  }
  sample(name: string, l: Record<string, string>, v: NgValue | undefined): void {
    this.out.push(`${name}${labels(l)} ${typeof v === "number" || typeof v === "string" ? v : 0}`);
  }
  text(): string {
    return this.out.join("\n") + "\n";
  }
}

export function metricsText(engine: CallEngine): string {
  const s = statisticsReply(engine)["statistics"] as unknown as Record<string, NgDict>;
  const c = s["currentstatistics"]!;
  const t = s["totalstatistics"]!;
  const m = s["mos"]!;
  const x = new Exposition();
  x.metric("rtpengine_sessions", "gauge", "Owned sessions", [[{ type: "own" }, c["sessionsown"]], [{ type: "foreign" }, c["sessionsforeign"]]]);
  x.metric("rtpengine_transcoded_media", "gauge", "Transcoded media", [[{}, c["transcodedmedia"]]]);
  x.metric("rtpengine_mediastreams", "gauge", "Userspace-only media streams", [
    [{ type: "userspace" }, c["media_userspace"]], [{ type: "kernel" }, c["media_kernel"]], [{ type: "mixed" }, c["media_mixed"]],
  ]);
  x.metric("rtpengine_uptime_seconds", "gauge", "Uptime of rtpengine", [[{}, t["uptime"]]]);
  x.metric("rtpengine_sessions_total", "counter", "Total managed sessions", [[{}, t["managedsessions"]]]);
  x.metric("rtpengine_closed_sessions_total", "counter", "Total rejected sessions", [
    [{ reason: "rejected" }, t["rejectedsessions"]], [{ reason: "timeout" }, t["timeoutsessions"]],
    [{ reason: "silent_timeout" }, t["silenttimeoutsessions"]], [{ reason: "final_timeout" }, t["finaltimeoutsessions"]],
    [{ reason: "offer_timeout" }, t["offertimeoutsessions"]], [{ reason: "terminated" }, t["regularterminatedsessions"]],
    [{ reason: "force_terminated" }, t["forcedterminatedsessions"]],
  ]);
  x.metric("rtpengine_packets_total", "counter", "Total relayed packets (userspace)", [[{ type: "userspace" }, t["relayedpackets_user"]]]);
  x.metric("rtpengine_packet_errors_total", "counter", "Total relayed packet errors (userspace)", [[{ type: "userspace" }, t["relayedpacketerrors_user"]]]);
  x.metric("rtpengine_bytes_total", "counter", "Total relayed bytes (userspace)", [[{ type: "userspace" }, t["relayedbytes_user"]]]);
  x.sample("rtpengine_packets_total", { type: "kernel" }, t["relayedpackets_kernel"]);
  x.sample("rtpengine_packet_errors_total", { type: "kernel" }, t["relayedpacketerrors_kernel"]);
  x.sample("rtpengine_bytes_total", { type: "kernel" }, t["relayedbytes_kernel"]);
  x.metric("rtpengine_zero_packet_streams_total", "counter", "Total number of streams with no relayed packets", [[{}, t["zerowaystreams"]]]);
  x.metric("rtpengine_one_way_sessions_total", "counter", "Total number of 1-way streams", [[{}, t["onewaystreams"]]]);
  x.metric("rtpengine_call_duration_avg", "gauge", "Average call duration", [[{}, t["avgcallduration"]]]);
  x.metric("rtpengine_call_duration_total", "counter", "Total calls duration", [[{}, t["totalcallsduration"]]]);
  x.metric("rtpengine_call_duration2_total", "counter", "Total calls duration squared", [[{}, t["totalcallsduration2"]]]);
  x.metric("rtpengine_mos_total", "counter", "Sum of all MOS values sampled", [[{}, m["mos_total"]]]);
  x.metric("rtpengine_mos2_total", "counter", "Sum of all MOS square values sampled", [[{}, m["mos2_total"]]]);
  x.metric("rtpengine_mos_samples_total", "counter", "Total number of MOS samples", [[{}, m["mos_samples_total"]]]);

  const proxies = proxyCounters();
  let first = true;
  for (const p of proxies) {
    for (const req of REQUESTS) {
      const cc = p.commands.get(req.toLowerCase());
      const l = { proxy: p.proxy, request: req };
      if (first) {
        x.metric("rtpengine_requests_total", "counter", null, [[l, cc?.count ?? 0]]);
        x.metric("rtpengine_request_seconds_total", "counter", null, [[l, ((cc?.totalMs ?? 0) / 1000).toFixed(6)]]);
        first = false;
      } else {
        x.sample("rtpengine_requests_total", l, cc?.count ?? 0);
        x.sample("rtpengine_request_seconds_total", l, ((cc?.totalMs ?? 0) / 1000).toFixed(6));
      }
    }
  }
  if (proxies.length) x.metric("rtpengine_errors_total", "counter", null, proxies.map((p) => [{ proxy: p.proxy }, p.errors]));

  const ifaces = (s["interfaces"] ?? []) as unknown as NgDict[];
  const ports = (key: string) => ifaces.map((i): [Record<string, string>, NgValue | undefined] => [
    { name: String(i["name"]), address: String(i["address"]) }, (i["ports"] as NgDict)[key],
  ]);
  x.metric("rtpengine_ports_used", "gauge", null, ports("used"));
  x.metric("rtpengine_ports_free", "gauge", null, ports("free"));
  x.metric("rtpengine_ports", "gauge", null, ports("totals"));
  // ours, not in 10.5 (last, so 10.5's part of the page stays identical): which kinds of bad input make up the packet errors
  const bad = badPacketCounts();
  x.metric("rtpengine_bad_packets_total", "counter", "Dropped bad media input by kind (SRTP auth/replay, truncated, STUN, DTLS)", BAD_PACKET_KINDS.map((k) => [{ kind: k }, bad[k]]));
  return x.text();
}

/** Serve GET /metrics on the HTTP listeners. */
export function registerPrometheus(engine: CallEngine): void {
  registerHttpRoute("/metrics", () => ({ type: "text/plain; version=0.0.4", body: metricsText(engine) }));
}
