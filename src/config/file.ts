// Reading the config file: locate it, pick the section, decode each known key by its option's kind.

import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.ts";
import { KeyFileError, keyFileBoolean, keyFileInteger, keyFileString, keyFileStringList, parseKeyFile } from "./keyfile.ts";
import { findLong, SPECIAL_OPTIONS } from "./options.ts";
import { parseDouble } from "./values.ts";

export interface FileValues {
  values: Map<string, boolean | number | string | string[]>;
  /** keys of the section that name no option */
  unknownKeys: string[];
}

/**
 * Load `section` of the file at `path`. A missing file is fine only when it is the default
 * file (`optional`), as with the reference; unreadable or malformed files and a missing
 * section are errors.
 */
export function readConfigFile(path: string, section: string, optional: boolean): FileValues | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (optional && (code === "ENOENT" || code === "ENOTDIR")) return null;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new ConfigError(`cannot read config file ${path}: ${why}`);
  }
  let groups;
  try {
    groups = parseKeyFile(text);
  } catch (e) {
    if (e instanceof KeyFileError) throw new ConfigError(`cannot parse config file ${path}: ${e.message}`);
    throw e;
  }
  const group = groups.get(section);
  if (!group) throw new ConfigError(`config file ${path} has no section [${section}]`);

  const out: FileValues = { values: new Map(), unknownKeys: [] };
  for (const [key, raw] of group) {
    const opt = findLong(key);
    if (!opt) {
      out.unknownKeys.push(key);
      continue;
    }
    if (SPECIAL_OPTIONS.has(key)) continue;
    const where = `${key} in ${path}`;
    try {
      switch (opt.arg) {
        case "none": {
          const b = keyFileBoolean(raw);
          if (b === null) throw new ConfigError(`invalid value for ${where}: '${raw}' (expected true or false)`);
          out.values.set(key, b);
          break;
        }
        case "int": {
          const n = keyFileInteger(raw);
          if (n === null) throw new ConfigError(`invalid value for ${where}: '${raw}' (expected an integer)`);
          out.values.set(key, n);
          break;
        }
        case "double":
          out.values.set(key, parseDouble(key, raw));
          break;
        case "string":
          out.values.set(key, keyFileString(raw));
          break;
        case "strings":
          out.values.set(key, keyFileStringList(raw));
          break;
      }
    } catch (e) {
      if (e instanceof KeyFileError) throw new ConfigError(`invalid value for ${where}: ${e.message}`);
      throw e;
    }
  }
  return out;
}
