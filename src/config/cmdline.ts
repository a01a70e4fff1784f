// Command-line parsing with GLib GOption rules, collecting raw values per option before typing.

import { ConfigError } from "./errors.ts";
import { findLong, findShort } from "./options.ts";
import type { OptionDef } from "./options.ts";
import { parseCmdlineInt, parseDouble } from "./values.ts";

/** What the command line said: per long name, the typed GOption value (last wins; `strings` accumulate). */
export interface CmdlineResult {
  values: Map<string, boolean | number | string | string[]>;
  /** `--help`, `-h`, `-?` or `--help-all` was given */
  help: boolean;
  /** arguments that are not options; rtpengine ignores them */
  positional: string[];
}

function store(res: CmdlineResult, opt: OptionDef, value: string | null): void {
  switch (opt.arg) {
    case "none":
      res.values.set(opt.long, true);
      return;
    case "int":
      res.values.set(opt.long, parseCmdlineInt(opt.long, value!));
      return;
    case "double":
      res.values.set(opt.long, parseDouble(opt.long, value!));
      return;
    case "string":
      res.values.set(opt.long, value!);
      return;
    case "strings": {
      const prev = res.values.get(opt.long);
      res.values.set(opt.long, [...(Array.isArray(prev) ? prev : []), value!]);
      return;
    }
  }
}

/**
 * Parse argv (without the program name): `--opt=value`, `--opt value`, `-o value`, grouped
 * short flags (`-fE`), repeated options, `--` ending the options. Beyond GLib, `-ovalue`
 * is also taken as `-o value` (GLib would read each letter as another short option).
 */
export function parseCommandLine(argv: readonly string[]): CmdlineResult {
  const res: CmdlineResult = { values: new Map(), help: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      res.positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (name === "help" || name === "help-all") {
        // GLib prints help as soon as it meets the option; later arguments are never looked at
        res.help = true;
        return res;
      }
      const opt = findLong(name);
      if (!opt) throw new ConfigError(`unknown option --${name}`);
      if (opt.arg === "none") {
        if (eq >= 0) throw new ConfigError(`option --${name} takes no value (got '${arg.slice(eq + 1)}')`);
        store(res, opt, null);
        continue;
      }
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new ConfigError(`missing value for --${name}`);
      store(res, opt, value);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j]!;
        if (ch === "h" || ch === "?") {
          res.help = true;
          return res;
        }
        const opt = findShort(ch);
        if (!opt) throw new ConfigError(`unknown option -${ch}`);
        if (opt.arg === "none") {
          store(res, opt, null);
          continue;
        }
        let value: string;
        if (j + 1 < arg.length) value = arg.slice(j + 1);
        else if (i + 1 < argv.length) value = argv[++i]!;
        else throw new ConfigError(`missing value for -${ch} (--${opt.long})`);
        store(res, opt, value);
        break;
      }
      continue;
    }
    res.positional.push(arg);
  }
  return res;
}
