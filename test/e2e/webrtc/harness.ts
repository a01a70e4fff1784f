// WebRTC→SIP bridging e2e: headless Chromium (DTLS-SRTP, ICE) ⇄ daemon ⇄ plain RTP/AVP endpoint; exit 0 = PASS.
//
//   bun test/e2e/webrtc/harness.ts [--keep-logs] [--dtls passive|active] [--timeout S] -- DAEMON-ARGV...
// --dtls adds DTLS=<mode> to the answer (towards the browser); by default no DTLS flag is sent there.
// Normally started by run.sh, which resolves the daemon command and guards the process group.
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dgram from "node:dgram";
import type { Subprocess } from "bun";
import { NgClient, waitForPing, type NgDict } from "../../conformance/ng-client.ts";
import { CdpSession, waitDevToolsPort, findPage } from "./cdp.ts";
import { RtpEndpoint, parseAudio } from "./rtp-endpoint.ts";

// ---------- arguments ----------
const argv = Bun.argv.slice(2);
const sep = argv.indexOf("--");
const opts = sep >= 0 ? argv.slice(0, sep) : argv;
const daemonArgv = sep >= 0 ? argv.slice(sep + 1) : [];
let keepLogs = false;
let dtlsMode = ""; // the answer's DTLS flag towards the browser; empty = not sent (the daemon's default, active)
let mediaTimeoutS = 20;
for (let i = 0; i < opts.length; i++) {
  const o = opts[i];
  if (o === "--keep-logs") keepLogs = true;
  else if (o === "--dtls") dtlsMode = opts[++i] ?? "";
  else if (o === "--timeout") mediaTimeoutS = Number(opts[++i]);
  else {
    console.error(`harness: unknown option ${o}`);
    process.exit(2);
  }
}
if (daemonArgv.length === 0) {
  console.error("harness: no daemon command after --");
  process.exit(2);
}

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const T0 = performance.now();
const el = () => `${((performance.now() - T0) / 1000).toFixed(2)}s`;
const timings: [string, number][] = [];
let lastMark = T0;
function mark(step: string): void {
  const now = performance.now();
  timings.push([step, now - lastMark]);
  lastMark = now;
  console.log(`[${el()}] ${step}`);
}

const logDir = mkdtempSync(join(tmpdir(), "e2e-webrtc-"));
const profileDir = join(logDir, "chromium-profile");
const daemonLog = join(logDir, "daemon.log");
const chromeLog = join(logDir, "chromium.log");

// ---------- cleanup (every exit path) ----------
let daemon: Subprocess | null = null;
let chrome: Subprocess | null = null;
let server: ReturnType<typeof Bun.serve> | null = null;
let endpoint: RtpEndpoint | null = null;
let cdp: CdpSession | null = null;
let ng: NgClient | null = null;
let passed = false;

async function stop(p: Subprocess | null, graceMs: number): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!done) {
    p.kill("SIGKILL");
    await Promise.race([p.exited, Bun.sleep(1000)]);
  }
}

let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    try {
      cdp?.close();
    } catch {
      /* ignore */
    }
    endpoint?.close();
    ng?.close();
    server?.stop(true);
    await Promise.all([stop(chrome, 2000), stop(daemon, 3000)]);
    if (passed && !keepLogs) rmSync(logDir, { recursive: true, force: true });
    else {
      rmSync(profileDir, { recursive: true, force: true });
      console.log(`logs: ${logDir}`);
    }
  })();
  return cleaning;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    console.log(`E2E FAIL: interrupted (${sig})`);
    cleanup().finally(() => process.exit(1));
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

type Stats = {
  peakRms: number;
  events: string[];
  ice: string;
  pc: string;
  transport: null | { dtlsState?: string; iceState?: string; dtlsRole?: string; srtpCipher?: string; packetsSent?: number; packetsReceived?: number; bytesSent?: number; bytesReceived?: number };
  pair: null | { state: string; local?: string; remote?: string; all?: string };
  inbound: null | { packetsReceived?: number; bytesReceived?: number; packetsLost?: number; jitter?: number; codecId?: string; totalAudioEnergy?: number };
  outbound: null | { packetsSent?: number; bytesSent?: number; codecId?: string };
  codecs: Record<string, string>;
};

const checks: { name: string; ok: boolean; detail: string }[] = [];
function check(name: string, ok: boolean, detail = ""): boolean {
  checks.push({ name, ok, detail });
  console.log(`  ${ok ? "ok  " : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
  return ok;
}

function sdpHas(sdp: string, re: RegExp): boolean {
  return sdp.split(/\r?\n/).some((l) => re.test(l));
}

/** Where the media path stopped, from the browser's and the endpoint's point of view. */
function diagnose(s: Stats | null, ep: RtpEndpoint): string {
  if (!s) return "no browser stats";
  const t = s.transport;
  const ice = t?.iceState ?? s.ice;
  if (!["connected", "completed"].includes(ice)) return `ICE: browser ICE state '${ice}' (pair: ${JSON.stringify(s.pair)}) — the daemon's STUN side towards the browser`;
  if (t?.dtlsState !== "connected") return `DTLS: browser DTLS state '${t?.dtlsState}' with ICE connected — handshake with the daemon (role ${t?.dtlsRole ?? "?"})`;
  const inb = s.inbound?.packetsReceived ?? 0;
  const out = s.outbound?.packetsSent ?? 0;
  const parts: string[] = [];
  if (inb === 0) {
    if ((t?.packetsReceived ?? 0) > 5) parts.push(`SRTP daemon→browser: the browser transport received ${t?.packetsReceived} packets but no RTP was accepted (SRTP protect/keys or SSRC/PT)`);
    else parts.push(`daemon→browser: DTLS up but (almost) nothing arrives at the browser (transport packetsReceived ${t?.packetsReceived ?? 0}); plain RTP from the endpoint is not forwarded`);
  }
  if (out > 0 && ep.rx.packets === 0) {
    parts.push(
      ep.rx.stunOrDtls > 0
        ? `browser→plain: the endpoint got ${ep.rx.stunOrDtls} STUN/DTLS packets but no RTP`
        : `browser→plain: browser sent ${out} packets, plain endpoint received none (SRTP unprotect or forwarding in the daemon)`,
    );
  }
  const sizes = [...ep.rx.payloadSizes.keys()];
  if (ep.rx.packets > 0 && !sizes.includes(160)) parts.push(`browser→plain: payload sizes ${sizes.join(",")} (160 expected; 170 = SRTP auth tag left on, i.e. not decrypted)`);
  return parts.join("; ") || "media flows but below the thresholds";
}

async function main(): Promise<void> {
  console.log(`WebRTC e2e: daemon = ${daemonArgv.join(" ")}; ${dtlsMode ? `DTLS=${dtlsMode}` : "no DTLS flag"} towards the browser`);
  if (!(await Bun.file(CHROMIUM).exists())) throw new Error(`${CHROMIUM} not found (apt-get install -y chromium)`);

  // 1. daemon
  const ngPort = await freeUdpPort();
  const portMin = 10000 + 200 * Math.floor(Math.random() * 45);
  const dArgs = [
    ...daemonArgv,
    "--config-file=none",
    "--table=-1",
    "--foreground",
    "--log-stderr",
    "-L",
    "7",
    "-i",
    "127.0.0.1",
    "-n",
    `127.0.0.1:${ngPort}`,
    "-m",
    String(portMin),
    "-M",
    String(portMin + 199),
  ];
  const dfd = openSync(daemonLog, "w");
  daemon = Bun.spawn(dArgs, { stdout: dfd, stderr: dfd, stdin: "ignore", cwd: process.cwd() });
  closeSync(dfd);
  ng = await NgClient.open({ host: "127.0.0.1", port: ngPort, timeoutMs: 3000 });
  const up = await waitForPing(ng, 15000, () => daemon?.exitCode === null);
  if (!up) throw new Error(`daemon did not answer ping on 127.0.0.1:${ngPort} (exit ${daemon.exitCode})\n${tail(daemonLog, 15)}`);
  mark(`daemon up (ng 127.0.0.1:${ngPort}, media ports ${portMin}-${portMin + 199})`);

  // 2. page + browser
  const page = await Bun.file(join(import.meta.dir, "page.html")).text();
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(page, { headers: { "content-type": "text/html" } }) });
  const url = `http://127.0.0.1:${server.port}/`;
  const cfd = openSync(chromeLog, "w");
  chrome = Bun.spawn(
    [
      CHROMIUM,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profileDir}`,
      "--remote-debugging-port=0",
      "--remote-allow-origins=*",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--autoplay-policy=no-user-gesture-required",
      url,
    ],
    { stdout: cfd, stderr: cfd, stdin: "ignore" },
  );
  closeSync(cfd);
  const devPort = await waitDevToolsPort(profileDir, 20000, () => chrome?.exitCode === null);
  const target = await findPage(devPort, url, 10000);
  cdp = await CdpSession.connect(target.webSocketDebuggerUrl!);
  cdp.on("Runtime.consoleAPICalled", (p) => {
    const args = (p.args as { value?: unknown; description?: string }[] | undefined) ?? [];
    console.log(`  [page] ${args.map((a) => (a.value !== undefined ? String(a.value) : a.description)).join(" ")}`);
  });
  await cdp.send("Runtime.enable");
  for (let i = 0; (await cdp.evaluate<string>("typeof window.e2e")) !== "object"; i++) {
    if (i > 100) throw new Error("test page did not load");
    await Bun.sleep(100);
  }
  mark(`chromium up (${target.url}, DevTools port ${devPort})`);

  // 3. browser offer → ng offer (WebRTC → plain RTP/AVP, as Kamailio would send for the SIP side)
  const browserOffer = await cdp.evaluate<string>("window.e2e.offer()", 15000);
  mark("browser offer created (ICE gathered)");
  console.log(`  browser offer: ${parseAudio(browserOffer)?.proto}, ${browserOffer.match(/a=candidate/g)?.length ?? 0} candidates, setup ${browserOffer.match(/a=setup:(\S+)/)?.[1]}`);
  const callId = `webrtc-e2e-${Date.now()}-${process.pid}`;
  const fromTag = "browser-tag";
  const toTag = "plain-tag";
  const offerReq: NgDict = {
    command: "offer",
    "call-id": callId,
    "from-tag": fromTag,
    sdp: browserOffer,
    ICE: "remove",
    DTLS: "off",
    SDES: ["off"],
    "transport-protocol": "RTP/AVP",
    "rtcp-mux": ["demux"],
    replace: ["origin", "session-connection"],
    flags: ["trust-address"],
  };
  const offerReply = await ng.request(offerReq, "bencode", 5000);
  if (offerReply.result !== "ok") throw new Error(`ng offer failed: ${JSON.stringify(offerReply)}`);
  const plainOffer = String(offerReply.sdp);
  mark("ng offer ok");
  const pm = parseAudio(plainOffer);
  console.log("  checks on the offer towards the plain side:");
  check("offer reply has an audio m= line", !!pm, pm ? `${pm.address}:${pm.port} ${pm.proto} ${pm.payloadTypes.join(" ")}` : plainOffer);
  if (!pm) throw new Error("no audio in offer reply");
  check("offer: transport RTP/AVP", pm.proto === "RTP/AVP", pm.proto);
  check("offer: ICE removed", !sdpHas(plainOffer, /^a=(ice-ufrag|ice-pwd|candidate)/), "");
  check("offer: no DTLS/SDES", !sdpHas(plainOffer, /^a=(fingerprint|setup|crypto)/), "");
  check("offer: rtcp-mux demuxed", !sdpHas(plainOffer, /^a=rtcp-mux/), "");
  check("offer: media address is the daemon's 127.0.0.1", pm.address === "127.0.0.1" && pm.port >= portMin && pm.port <= portMin + 199, `${pm.address}:${pm.port}`);
  check("offer: G.711 offered", pm.payloadTypes.includes(0) || pm.payloadTypes.includes(8), pm.payloadTypes.join(" "));

  // 4. plain endpoint answers → ng answer (towards the WebRTC side)
  endpoint = await RtpEndpoint.open();
  const { sdp: plainAnswer, pt } = endpoint.answerSdp(pm);
  const answerReq: NgDict = {
    command: "answer",
    "call-id": callId,
    "from-tag": fromTag,
    "to-tag": toTag,
    sdp: plainAnswer,
    ICE: "force",
    ...(dtlsMode ? { DTLS: dtlsMode } : {}),
    "transport-protocol": "UDP/TLS/RTP/SAVPF",
    "rtcp-mux": ["offer"],
    replace: ["origin", "session-connection"],
    flags: ["trust-address", "generate-mid"],
  };
  const answerReply = await ng.request(answerReq, "bencode", 5000);
  if (answerReply.result !== "ok") throw new Error(`ng answer failed: ${JSON.stringify(answerReply)}`);
  const webrtcAnswer = String(answerReply.sdp);
  mark("ng answer ok");
  const am = parseAudio(webrtcAnswer);
  console.log("  checks on the answer towards the browser:");
  check("answer: transport UDP/TLS/RTP/SAVPF", am?.proto === "UDP/TLS/RTP/SAVPF", am?.proto ?? "no audio");
  check("answer: ICE credentials and a candidate", sdpHas(webrtcAnswer, /^a=ice-ufrag/) && sdpHas(webrtcAnswer, /^a=candidate/), "");
  check("answer: DTLS fingerprint and setup", sdpHas(webrtcAnswer, /^a=fingerprint:/) && sdpHas(webrtcAnswer, /^a=setup:(active|passive)/), webrtcAnswer.match(/a=setup:\S+/)?.[0] ?? "no a=setup");
  check("answer: rtcp-mux", sdpHas(webrtcAnswer, /^a=rtcp-mux/), "");
  check("answer: codec the endpoint chose", !!am && am.payloadTypes.includes(pt), am?.payloadTypes.join(" ") ?? "");
  if (process.env.E2E_SHOW_SDP) console.log(`--- browser offer\n${browserOffer}--- offer reply\n${plainOffer}--- plain answer\n${plainAnswer}--- answer reply\n${webrtcAnswer}`);

  let signalling = "";
  try {
    signalling = await cdp.evaluate<string>(`window.e2e.answer(${JSON.stringify(webrtcAnswer)})`, 10000);
  } catch (e) {
    check("browser accepts the daemon's answer", false, String(e));
    console.log(`--- answer SDP\n${webrtcAnswer}`);
    throw new Error("browser rejected the answer");
  }
  check("browser accepts the daemon's answer", signalling === "stable", signalling);
  mark("answer applied in the browser");

  // 5. media both ways
  endpoint.startSending(pm.address, pm.port, pt);
  const deadline = performance.now() + mediaTimeoutS * 1000;
  let s: Stats | null = null;
  let iceAt = 0;
  let dtlsAt = 0;
  let inAt = 0;
  let outAt = 0;
  const need = 25; // 0.5 s of 20 ms packets each way
  const tMedia = performance.now();
  while (performance.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`daemon exited (${daemon.exitCode}) during the call\n${tail(daemonLog, 20)}`);
    s = await cdp.evaluate<Stats>("window.e2e.stats()", 5000);
    const now = performance.now() - tMedia;
    const iceState = s.transport?.iceState ?? s.ice;
    if (!iceAt && ["connected", "completed"].includes(iceState)) iceAt = now;
    if (!dtlsAt && s.transport?.dtlsState === "connected") dtlsAt = now;
    if (!inAt && (s.inbound?.packetsReceived ?? 0) > 0) inAt = now;
    if (!outAt && endpoint.rx.packets > 0) outAt = now;
    if ((s.inbound?.packetsReceived ?? 0) >= need && (s.outbound?.packetsSent ?? 0) >= need && endpoint.rx.packets >= need && s.peakRms > 0.01) break;
    await Bun.sleep(250);
  }
  const ms = (x: number) => (x ? `${(x / 1000).toFixed(2)}s` : "never");
  mark(`media phase (ICE ${ms(iceAt)}, DTLS ${ms(dtlsAt)}, first RTP at browser ${ms(inAt)}, at endpoint ${ms(outAt)})`);

  // 6. verdict
  const rx = endpoint.rx;
  console.log(`  page events: ${s?.events.join(", ")}`);
  console.log("  browser:", JSON.stringify({ ice: s?.ice, pc: s?.pc, transport: s?.transport, pair: s?.pair, inbound: s?.inbound, outbound: s?.outbound }));
  console.log(
    "  endpoint:",
    JSON.stringify({
      sent: endpoint.sent,
      received: rx.packets,
      payloadTypes: Object.fromEntries(rx.payloadTypes),
      payloadSizes: Object.fromEntries(rx.payloadSizes),
      ssrcs: rx.ssrcs.size,
      seqGaps: rx.seqGaps,
      nonSilent: rx.nonSilent,
      from: [...rx.from],
      rtcp: rx.rtcpPackets,
      stunOrDtls: rx.stunOrDtls,
    }),
  );
  console.log("  media checks:");
  const iceState = s?.transport?.iceState ?? s?.ice ?? "none";
  check("browser ICE connected", ["connected", "completed"].includes(iceState), `${iceState}; pair ${JSON.stringify(s?.pair)}`);
  check("browser DTLS connected", s?.transport?.dtlsState === "connected", `${s?.transport?.dtlsState}, role ${s?.transport?.dtlsRole}, ${s?.transport?.srtpCipher}`);
  check(`browser inbound-rtp packetsReceived >= ${need}`, (s?.inbound?.packetsReceived ?? 0) >= need, `${s?.inbound?.packetsReceived ?? 0} (codec ${s?.codecs[s?.inbound?.codecId ?? ""] ?? "?"}, lost ${s?.inbound?.packetsLost ?? "?"})`);
  check("browser hears the endpoint's 440 Hz tone (decoded RMS > 0.01)", (s?.peakRms ?? 0) > 0.01, `peak RMS ${(s?.peakRms ?? 0).toFixed(3)}`);
  check(`browser outbound-rtp packetsSent >= ${need}`, (s?.outbound?.packetsSent ?? 0) >= need, `${s?.outbound?.packetsSent ?? 0} (codec ${s?.codecs[s?.outbound?.codecId ?? ""] ?? "?"})`);
  check(`endpoint received >= ${need} RTP packets`, rx.packets >= need, String(rx.packets));
  const onlyG711 = rx.packets > 0 && [...rx.payloadTypes.keys()].every((p) => p === pt);
  check(`endpoint: every packet has payload type ${pt} (${pt === 0 ? "PCMU" : "PCMA"})`, onlyG711, JSON.stringify(Object.fromEntries(rx.payloadTypes)));
  const size160 = rx.payloadSizes.get(160) ?? 0;
  check("endpoint: plain RTP, 160-byte G.711 payloads (decrypted, no SRTP tag)", rx.packets > 0 && size160 === rx.packets, JSON.stringify(Object.fromEntries(rx.payloadSizes)));
  check("endpoint: one SSRC, from the daemon's port", rx.ssrcs.size === 1 && [...rx.from].every((f) => f === `${pm.address}:${pm.port}`), `${rx.ssrcs.size} SSRC(s), from ${[...rx.from].join(",")}`);
  check("endpoint: no STUN/DTLS leaked to the plain side", rx.stunOrDtls === 0, String(rx.stunOrDtls));

  // daemon's own view, for the report
  try {
    const q = await ng.request({ command: "query", "call-id": callId }, "bencode", 3000);
    const tags = (q.tags ?? {}) as Record<string, { medias?: { streams?: { stats?: { packets?: number }; endpoint?: { address?: string; port?: number } }[] }[] }>;
    for (const [tag, t] of Object.entries(tags)) {
      const streams = (t.medias ?? []).flatMap((m) => m.streams ?? []);
      console.log(`  daemon query ${tag}: ${streams.map((x) => `${x.endpoint?.address ?? "?"}:${x.endpoint?.port ?? "?"} in=${x.stats?.packets ?? "?"}`).join(", ")}`);
    }
  } catch (e) {
    console.log(`  daemon query failed: ${e}`);
  }
  try {
    const d = await ng.request({ command: "delete", "call-id": callId }, "bencode", 3000);
    check("ng delete ok", d.result === "ok", String(d.result));
  } catch (e) {
    check("ng delete ok", false, String(e));
  }
  await cdp.evaluate("window.e2e.close()").catch(() => undefined);

  const failed = checks.filter((c) => !c.ok);
  if (failed.length) console.log(`  where it stops: ${diagnose(s, endpoint)}`);
  console.log(`timings: ${timings.map(([n, t]) => `${n.split(" (")[0]} ${(t / 1000).toFixed(2)}s`).join(" | ")}; total ${el()}`);
  passed = failed.length === 0;
  console.log(`${checks.length - failed.length} passed, ${failed.length} failed`);
}

let code = 1;
try {
  await main();
  code = passed ? 0 : 1;
  console.log(passed ? "E2E PASS: webrtc" : "E2E FAIL: webrtc");
} catch (e) {
  console.log(`E2E FAIL: webrtc: ${e instanceof Error ? e.message : String(e)}`);
  console.log(`--- daemon log (tail)\n${tail(daemonLog, 25)}`);
  console.log(`${checks.filter((c) => c.ok).length} passed, ${checks.filter((c) => !c.ok).length + 1} failed`);
}
await cleanup();
process.exit(code);
