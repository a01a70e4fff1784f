// GKeyFile-compatible INI reader: groups, keys, comments, and GLib's value decoding rules.

/** One `[group]`: key → raw (undecoded) value; a repeated key keeps the last value, as GKeyFile does. */
export type KeyFileGroup = Map<string, string>;
export type KeyFile = Map<string, KeyFileGroup>;

/** A syntax or value error; `line` is 1-based when it refers to a line of the file. */
export class KeyFileError extends Error {}

/**
 * Parse INI text the way GLib's GKeyFile does: `#` comments and blank lines are skipped,
 * `[name]` opens (or reopens) a group, `key = value` needs a group first; whitespace
 * around `=` and before the key is dropped, the value's trailing whitespace is kept
 * (decoders ignore it where GLib does). Any other line is an error.
 */
export function parseKeyFile(text: string): KeyFile {
  const groups: KeyFile = new Map();
  let current: KeyFileGroup | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const start = line.replace(/^[ \t\f\v\r]+/, "");
    if (start === "" || start.startsWith("#")) continue;
    const group = /^\[([^\[\]]*)\][ \t]*$/.exec(start);
    if (group) {
      const name = group[1]!;
      if (name === "" || /[\x00-\x1f]/.test(name)) throw new KeyFileError(`invalid group name '${name}' on line ${i + 1}`);
      current = groups.get(name) ?? new Map();
      groups.set(name, current);
      continue;
    }
    const eq = start.indexOf("=");
    if (eq < 0) throw new KeyFileError(`line ${i + 1} is not a key-value pair, group, or comment: '${start}'`);
    if (!current) throw new KeyFileError(`line ${i + 1}: key-value pair before the first group`);
    const key = start.slice(0, eq).replace(/[ \t]+$/, "");
    if (key === "") throw new KeyFileError(`line ${i + 1}: empty key name`);
    current.set(key, start.slice(eq + 1).replace(/^[ \t]+/, ""));
  }
  return groups;
}

/** Undo GKeyFile escapes (`\s \n \t \r \\`, and `\;` inside lists); other escapes are errors. */
function unescape(raw: string, inList: boolean): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = raw[++i];
    switch (n) {
      case "s": out += " "; break;
      case "n": out += "\n"; break;
      case "t": out += "\t"; break;
      case "r": out += "\r"; break;
      case "\\": out += "\\"; break;
      case ";":
        if (!inList) throw new KeyFileError(`invalid escape sequence '\\${n}'`);
        out += n;
        break;
      case undefined: throw new KeyFileError("escape character at end of line");
      default: throw new KeyFileError(`invalid escape sequence '\\${n}'`);
    }
  }
  return out;
}

/** g_key_file_get_string */
export function keyFileString(raw: string): string {
  return unescape(raw, false);
}

/** g_key_file_get_string_list with the default `;` separator; a trailing `;` ends the list. */
export function keyFileStringList(raw: string): string[] {
  const items: string[] = [];
  let cur = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "\\" && i + 1 < raw.length) {
      cur += c + raw[++i];
    } else if (c === ";") {
      items.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  if (cur !== "") items.push(cur);
  return items.map((s) => unescape(s, true));
}

/** g_key_file_get_boolean: exactly `true`/`false`/`1`/`0` (case matters), trailing whitespace allowed. */
export function keyFileBoolean(raw: string): boolean | null {
  const v = raw.replace(/\s+$/, "");
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return null;
}

/** g_key_file_get_integer: decimal only, optional sign, trailing whitespace allowed, must fit in 32 bits. */
export function keyFileInteger(raw: string): number | null {
  const m = /^([+-]?\d+)\s*$/.exec(raw);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}
