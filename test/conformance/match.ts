// SDP pattern matcher for the conformance vectors: placeholder words, '?' wildcards, ${VAR} literals.

/** Placeholder words and what they match; `capture: false` ones are not numbered. */
const WORDS: Record<string, { re: string; capture: boolean }> = {
  PORT: { re: "[0-9]{1,5}", capture: true },
  ICEBASE: { re: "[0-9a-zA-Z]{16}", capture: true },
  ICEUFRAG: { re: "[0-9a-zA-Z]{8}", capture: true },
  ICEPWD: { re: "[0-9a-zA-Z]{26}", capture: true },
  CRYPTO128S: { re: "[0-9a-zA-Z/+]{38}", capture: true },
  CRYPTO128: { re: "[0-9a-zA-Z/+]{40}", capture: true },
  CRYPTO192: { re: "[0-9a-zA-Z/+]{51}", capture: true },
  CRYPTO256S: { re: "[0-9a-zA-Z/+]{59}", capture: true },
  CRYPTO256: { re: "[0-9a-zA-Z/+]{62}", capture: true },
  LOOPER: { re: "[0-9a-f]{12}", capture: true },
  FINGERPRINT256: { re: "[0-9a-fA-F:]{95}", capture: true },
  FINGERPRINT: { re: "[0-9a-fA-F:]{59}", capture: true },
  SDP_VERSION: { re: "[0-9]+ [0-9]+", capture: false },
  RTPE_VERSION: { re: "rtpengine-\\S+", capture: false },
};

// Longest alternatives first, so CRYPTO128S wins over CRYPTO128 and FINGERPRINT256 over FINGERPRINT
// (the same result as replacing the words one after another in the documented order).
const WORD_NAMES = Object.keys(WORDS).sort((a, b) => b.length - a.length);
const VAR_RE = "\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}";
const TOKEN_RE = new RegExp(`${WORD_NAMES.join("|")}|\\?|${VAR_RE}`, "g");

export type Vars = Record<string, unknown>;

export interface MatchResult {
  ok: boolean;
  /** Capture groups, index 0 = group 1. Empty when not matched. */
  groups: string[];
  /** When not matched: 1-based line of the first mismatch and the two lines involved. */
  mismatch?: { line: number; expected: string; got: string };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&");

/** `${NAME}` interpolation as Perl does before the pattern is built: the value is literal text. */
export function interpolate(text: string, vars: Vars): string {
  return text.replace(new RegExp(VAR_RE, "g"), (_m, name: string) => varText(vars, name));
}

function varText(vars: Vars, name: string): string {
  const v = vars[name];
  if (v === undefined || v === null) return ""; // Perl interpolates undef as ""
  return Array.isArray(v) ? v.join(" ") : String(v);
}

/** Translate one pattern (no line ends required) into a regex source and its number of groups. */
export function patternToRegex(pattern: string, vars: Vars = {}): { source: string; groups: number } {
  let out = "";
  let last = 0;
  let groups = 0;
  for (const m of pattern.matchAll(TOKEN_RE)) {
    out += escapeRe(pattern.slice(last, m.index));
    last = m.index! + m[0].length;
    if (m[0] === "?") out += "[^\\n]";
    else if (m[1] !== undefined) out += escapeRe(varText(vars, m[1]));
    else {
      const w = WORDS[m[0]]!;
      if (w.capture) {
        out += `(${w.re})`;
        groups++;
      } else out += `(?:${w.re})`;
    }
  }
  out += escapeRe(pattern.slice(last));
  return { source: out, groups };
}

/** Normalise a daemon SDP for matching: CRLF (and lone CR) to LF. */
export const normaliseSdp = (sdp: string): string => sdp.replace(/\r\n?/g, "\n");

/**
 * Match a returned SDP against an expected pattern. The whole text must match; one extra
 * trailing newline on the daemon side is tolerated (Perl's `$`).
 */
export function matchSdp(pattern: string, got: string, vars: Vars = {}): MatchResult {
  const text = normaliseSdp(got);
  const { source } = patternToRegex(pattern, vars);
  const m = new RegExp(`^${source}\\n?$`).exec(text);
  if (m) return { ok: true, groups: m.slice(1).map((g) => g ?? "") };
  return { ok: false, groups: [], mismatch: firstMismatch(pattern, text, vars) };
}

/**
 * Neither a placeholder nor '?' can span a line end, so a line-by-line comparison finds
 * exactly where the whole-text match broke.
 */
function firstMismatch(pattern: string, text: string, vars: Vars): { line: number; expected: string; got: string } {
  const exp = pattern.replace(/\n$/, "").split("\n");
  const got = text.replace(/\n$/, "").split("\n");
  const n = Math.max(exp.length, got.length);
  for (let i = 0; i < n; i++) {
    const e = exp[i];
    const g = got[i];
    if (e === undefined || g === undefined) return { line: i + 1, expected: e ?? "<end>", got: g ?? "<end>" };
    if (!new RegExp(`^${patternToRegex(e, vars).source}$`).test(g)) return { line: i + 1, expected: e, got: g };
  }
  return { line: n, expected: "<end>", got: "<end>" }; // e.g. two extra trailing newlines
}
