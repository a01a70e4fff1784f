// `--nftables-chain` (extension): the daemon's own nftables rule sending UDP to xt_RTPENGINE, installed at startup and removed at shutdown (ffi/nft.c).
import type { KernelLog } from "./setup.ts";
import type { ShimRaw } from "../platform/shim-abi.ts";

/** ffi/rtpe_nft.h */
const NFT_IP = 0x1;
const NFT_IP6 = 0x2;
const NFT_APPEND = 0x4;
const NFT_CREATED_SHIFT = 8;
const ERR_LEN = 256;

export interface NftConfig {
  table: number;
  noFallback: boolean;
  nftablesChain: string | null;
  nftablesBaseChain: string;
  nftablesAppend: boolean;
  nftablesFamily: readonly ("ip" | "ip6")[];
}

/** What was installed, for the teardown: names, families and what the setup created (table, base chain). */
export interface NftInstalled {
  readonly chain: string;
  readonly base: string;
  readonly flags: number;
  readonly created: number;
}

export interface NftStartup {
  installed: NftInstalled | null;
  /** with --no-fallback and the rule not installed: the one line to print before exiting 1 */
  fatal: string | null;
}

type NftShim = Pick<ShimRaw, "rtpe_nft_setup" | "rtpe_nft_teardown">;

function errText(buf: Uint8Array, rc: number): string {
  const end = buf.indexOf(0);
  const text = new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
  return text || `error ${-rc}`;
}

function describe(cfg: NftConfig): string {
  const fams = cfg.nftablesFamily.join(",");
  const base = cfg.nftablesBaseChain ? `, jump from base chain ${cfg.nftablesBaseChain}` : ", no base chain";
  return `nftables chain ${cfg.nftablesChain} in table filter (${fams})${base}`;
}

/** Startup, after the kernel table is open: nothing unless --nftables-chain is given; without the kernel table (userspace) it is skipped. A failure is logged and packets stay in userspace, or with --no-fallback it is fatal. */
export async function installNftRule(
  cfg: NftConfig, haveTable: boolean, log: KernelLog, shim?: () => Promise<NftShim>,
): Promise<NftStartup> {
  const chain = cfg.nftablesChain;
  if (chain === null) return { installed: null, fatal: null };
  if (!haveTable) {
    log.info(`No kernel forwarding table: ${describe(cfg)} not installed`);
    return { installed: null, fatal: null };
  }
  const enc = new TextEncoder();
  const c = enc.encode(chain);
  const b = enc.encode(cfg.nftablesBaseChain);
  let flags = (cfg.nftablesFamily.includes("ip") ? NFT_IP : 0) | (cfg.nftablesFamily.includes("ip6") ? NFT_IP6 : 0);
  if (cfg.nftablesAppend) flags |= NFT_APPEND;
  const err = new Uint8Array(ERR_LEN);
  let why: string;
  try {
    const raw = shim ? await shim() : await loadNftShim();
    const rc = raw.rtpe_nft_setup(c, c.length, b, b.length, cfg.table, flags, err, ERR_LEN);
    if (rc >= 0) {
      log.info(`Installed ${describe(cfg)}: meta l4proto udp -> xt target RTPENGINE --id ${cfg.table}`);
      return { installed: { chain, base: cfg.nftablesBaseChain, flags: flags & (NFT_IP | NFT_IP6), created: rc }, fatal: null };
    }
    why = errText(err, rc);
  } catch (e) {
    why = (e as Error).message;
  }
  if (cfg.noFallback) {
    return { installed: null, fatal: `rtpengine: ${describe(cfg)} not installed (${why}) and --no-fallback given: exiting` };
  }
  log.warning(`FAILED TO INSTALL ${describe(cfg)} (${why}): packets reach the kernel module only through rules set up by hand`);
  return { installed: null, fatal: null };
}

/** Shutdown (and a failed startup): remove the jump and the chain, and what the setup created if nothing else uses it; logs instead of throwing. */
export async function removeNftRule(installed: NftInstalled | null, log: KernelLog, shim?: () => Promise<NftShim>): Promise<void> {
  if (!installed) return;
  const enc = new TextEncoder();
  const c = enc.encode(installed.chain);
  const b = enc.encode(installed.base);
  const err = new Uint8Array(ERR_LEN);
  try {
    const raw = shim ? await shim() : await loadNftShim();
    const rc = raw.rtpe_nft_teardown(c, c.length, b, b.length, installed.flags | (installed.created << NFT_CREATED_SHIFT), err, ERR_LEN);
    if (rc < 0) log.warning(`nftables chain ${installed.chain} not removed: ${errText(err, rc)}`);
    else log.info(`Removed nftables chain ${installed.chain}${installed.base ? ` and its jump from ${installed.base}` : ""}`);
  } catch (e) {
    log.warning(`nftables chain ${installed.chain} not removed: ${(e as Error).message}`);
  }
}

async function loadNftShim(): Promise<NftShim> {
  const { loadShim } = await import("../platform/ffi.ts");
  return (await loadShim()).raw;
}
