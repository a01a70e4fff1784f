// CLI commands over the call engine's state: numsessions, sessions, totals, jsonstats, counters, interfaces, terminate.
import type { CallEngine } from "../call/engine.ts";
import { statisticsReply } from "../call/query.ts";
import type { NgDict, NgValue } from "./types.ts";
import { onSettingChanged, registerCliCommand } from "./cli.ts";

/** JSON like rtpengine's jsonstats: decimal strings (bencode has no floats) are written as bare numbers. */
function toStatsJson(v: NgValue): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return /^-?\d+(\.\d+)?$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toStatsJson).join(",")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toStatsJson(x)}`).join(",")}}`;
}

function stats(engine: CallEngine): Record<string, NgDict> {
  return statisticsReply(engine)["statistics"] as unknown as Record<string, NgDict>;
}

const row = (label: string, value: NgValue | undefined, unit = ""): string => ` ${label.padEnd(48)}:${value ?? 0}${unit}\n`;

function totals(engine: CallEngine): string {
  const s = stats(engine);
  const c = s["currentstatistics"]!;
  const t = s["totalstatistics"]!;
  return (
    "\nStatistics over currently running sessions:\n\n" +
    row("Owned sessions", c["sessionsown"]) +
    row("Foreign sessions", c["sessionsforeign"]) +
    row("Total sessions", c["sessionstotal"]) +
    row("Transcoded media", c["transcodedmedia"]) +
    row("Packets per second (userspace)", c["packetrate_user"]) +
    row("Bytes per second (userspace)", c["byterate_user"]) +
    row("Errors per second (userspace)", c["errorrate_user"]) +
    row("Packets per second (kernel)", c["packetrate_kernel"]) +
    row("Bytes per second (kernel)", c["byterate_kernel"]) +
    row("Errors per second (kernel)", c["errorrate_kernel"]) +
    row("Packets per second (total)", c["packetrate"]) +
    row("Bytes per second (total)", c["byterate"]) +
    row("Errors per second (total)", c["errorrate"]) +
    row("Userspace-only media streams", c["media_userspace"]) +
    row("Kernel-only media streams", c["media_kernel"]) +
    row("Mixed kernel/userspace media streams", c["media_mixed"]) +
    "\nTotal statistics (does not include current running sessions):\n\n" +
    row("Uptime of rtpengine", t["uptime"], " seconds") +
    row("Total managed sessions", t["managedsessions"]) +
    row("Total rejected sessions", t["rejectedsessions"]) +
    row("Total timed-out sessions via TIMEOUT", t["timeoutsessions"]) +
    row("Total timed-out sessions via SILENT_TIMEOUT", t["silenttimeoutsessions"]) +
    row("Total timed-out sessions via FINAL_TIMEOUT", t["finaltimeoutsessions"]) +
    row("Total timed-out sessions via OFFER_TIMEOUT", t["offertimeoutsessions"]) +
    row("Total regular terminated sessions", t["regularterminatedsessions"]) +
    row("Total forced terminated sessions", t["forcedterminatedsessions"]) +
    row("Total relayed packets (userspace)", t["relayedpackets_user"]) +
    row("Total relayed packet errors (userspace)", t["relayedpacketerrors_user"]) +
    row("Total relayed bytes (userspace)", t["relayedbytes_user"]) +
    row("Total relayed packets (kernel)", t["relayedpackets_kernel"]) +
    row("Total relayed packet errors (kernel)", t["relayedpacketerrors_kernel"]) +
    row("Total relayed bytes (kernel)", t["relayedbytes_kernel"]) +
    row("Total relayed packets", t["relayedpackets"]) +
    row("Total relayed packet errors", t["relayedpacketerrors"]) +
    row("Total relayed bytes", t["relayedbytes"]) +
    row("Total number of streams with no relayed packets", t["zerowaystreams"]) +
    row("Total number of 1-way streams", t["onewaystreams"]) +
    row("Average call duration", t["avgcallduration"], " seconds") +
    row("Total calls duration", t["totalcallsduration"], " seconds") +
    row("Total calls duration squared", t["totalcallsduration2"], " seconds squared") +
    row("Total calls duration standard deviation", t["totalcallsduration_stddev"], " seconds") +
    "\n\n" +
    intervalSection(s["intervalstatistics"]!) +
    "\n\nMOS statistics:\n\n" +
    mosSection(s["mos"]!) +
    "\n\nControl statistics:\n\n" +
    controlTable(s["controlstatistics"]!) +
    "\n\n\n\n"
  );
}

// the ng commands in the order rtpengine lists them in statistics, with the control table's column titles
const COMMANDS: ReadonlyArray<[string, string, string]> = [
  ["ping", "Ping", "ping"], ["offer", "Offer", "offer"], ["answer", "Answer", "answer"], ["delete", "Delete", "delete"],
  ["query", "Query", "query"], ["list", "List", "list"], ["start recording", "StartRec", "startrec"],
  ["stop recording", "StopRec", "stoprec"], ["start forwarding", "StartFwd", "startfwd"], ["stop forwarding", "StopFwd", "stopfwd"],
  ["block DTMF", "BlkDTMF", "blkdtmf"], ["unblock DTMF", "UnblkDTMF", "unblkdtmf"], ["block media", "BlkMedia", "blkmedia"],
  ["unblock media", "UnblkMedia", "unblkmedia"], ["play media", "PlayMedia", "playmedia"], ["stop media", "StopMedia", "stopmedia"],
  ["play DTMF", "PlayDTMF", "playdtmf"], ["statistics", "Stats", "stats"], ["silence media", "SlnMedia", "slnmedia"],
  ["unsilence media", "UnslnMedia", "unslnmedia"], ["publish", "Pub", "pub"], ["subscribe request", "SubReq", "subreq"],
  ["subscribe answer", "SubAns", "subans"], ["unsubscribe", "Unsub", "unsub"],
];

function intervalSection(i: NgDict): string {
  let out = "Graphite interval statistics (last reported values to graphite):\n";
  out += row("Total calls duration", i["totalcallsduration"], " seconds") + "\n";
  out += row("Min managed sessions", i["minmanagedsessions"]) + row("Max managed sessions", i["maxmanagedsessions"]);
  for (const [c] of COMMANDS) {
    out += row(`Min/Max/Avg ${c} processing delay`, `${i[`min${c}delay`] ?? "0.000000"}/${i[`max${c}delay`] ?? "0.000000"}/${i[`avg${c}delay`] ?? "0.000000"}`, " sec");
  }
  for (const [c] of COMMANDS) {
    out += row(`Min/Max/Avg ${c} requests per second`, `${i[`min${c}requestrate`] ?? 0}/${i[`max${c}requestrate`] ?? 0}/${i[`avg${c}requestrate`] ?? 0}`, " per sec");
  }
  return out;
}

function mosSection(m: NgDict): string {
  return (
    row("Sum of all MOS values sampled", m["mos_total"]) +
    row("Sum of all MOS square values sampled", m["mos2_total"]) +
    row("Total number of MOS samples", m["mos_samples_total"]) +
    row("Average MOS", m["mos_average"]) +
    row("MOS standard deviation", m["mos_stddev"])
  );
}

function controlTable(c: NgDict): string {
  const line = (first: string, cells: string[]) => `${first.padStart(21)} | ${cells.map((x) => x.padStart(10)).join(" | ")} \n`;
  let out = line("Proxy", COMMANDS.map(([, title]) => title));
  for (const p of (c["proxies"] ?? []) as NgDict[]) {
    out += line(String(p["proxy"]), COMMANDS.map(([, , short]) => String(p[`${short}count`] ?? 0)));
  }
  return out;
}

function interfaces(engine: CallEngine): string {
  const list = stats(engine)["interfaces"] as unknown as NgDict[];
  return list
    .map((i) => {
      const p = i["ports"] as NgDict;
      const fam = String(i["address"]).includes(":") ? "IPv6" : "IPv4";
      const pct = Number(p["used_pct"] ?? 0).toFixed(1).padStart(5);
      return (
        `Interface '${i["name"]}' address '${i["address"]}' (${fam})\n` +
        ` Port range: ${p["min"]} - ${p["max"]}\n` +
        ` Ports used: ${String(p["used"]).padStart(5)} / ${String(p["totals"]).padStart(5)} (${pct}%)\n`
      );
    })
    .join("");
}

/** Register the session commands for a running engine (all calls are "own": there is no Redis foreign state yet). */
export function registerCallCliCommands(engine: CallEngine): void {
  // the engine copied these out of the Config at start; `set` must reach it too
  onSettingChanged((key, value) => {
    if (key === "maxSessions") engine.opts.maxSessions = value;
    else if (key === "deleteDelay") engine.opts.deleteDelay = value;
  });
  registerCliCommand("list numsessions", () => {
    const n = engine.calls.size;
    let transcoded = 0;
    let v4 = 0;
    let v6 = 0;
    let mixed = 0;
    for (const call of engine.calls.values()) {
      const families = new Set<number>();
      for (const m of call.all) {
        for (const md of m.medias) {
          families.add(md.family);
          if (md.transcoding) transcoded++;
        }
      }
      if (families.size === 2) mixed++;
      else if (families.has(4)) v4++;
      else if (families.has(6)) v6++;
    }
    return (
      `Current sessions own: ${n}\nCurrent sessions foreign: 0\nCurrent sessions total: ${n}\n` +
      `Current transcoded media: ${transcoded}\n` +
      `Current sessions ipv4 only media: ${v4}\nCurrent sessions ipv6 only media: ${v6}\nCurrent sessions ip mixed  media: ${mixed}\n`
    );
  });
  registerCliCommand("list sessions", (args) => {
    const which = args[0];
    if (which === undefined) return "More parameters required.\n";
    if (which === "foreign" || engine.calls.size === 0) return "No sessions on this media relay.\n";
    if (which === "all" || which === "own") {
      return [...engine.calls.keys()].map((id) => `callid: ${id}\n`).join("");
    }
    const id = args.join(" ");
    if (!engine.calls.has(id)) return `\nCall Id not found (${id}).\n\n`;
    return `callid: ${id} (details are not implemented in this version)\n`;
  });
  registerCliCommand("list totals", () => totals(engine));
  registerCliCommand("list jsonstats", () => toStatsJson(stats(engine) as unknown as NgDict));
  registerCliCommand("list interfaces", () => interfaces(engine));
  registerCliCommand("terminate", (args) => {
    const what = args[0];
    if (what === undefined) return "More parameters required.\n";
    if (what === "all" || what === "own") {
      for (const c of [...engine.calls.values()]) engine.destroyCall(c);
      return what === "all" ? "All calls terminated by operator.\n" : "All own calls terminated by operator.\n";
    }
    if (what === "foreign") return "All foreign calls terminated by operator.\n";
    const call = engine.calls.get(args.join(" "));
    if (!call) return `\nCall Id not found (${args.join(" ")}).\n\n`;
    engine.destroyCall(call);
    return `\nCall Id (${call.callId}) successfully terminated by operator.\n\n`;
  });
}
