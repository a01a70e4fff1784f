// --help and --version texts, laid out like GLib's GOption help.

import pkg from "../../package.json" with { type: "json" };
import { OPTIONS } from "./options.ts";

/** rtpengine release whose options and behaviour we follow. */
export const COMPATIBLE_WITH = "10.5.3.5";
/** Our version string: the compatible release first, so that version checks written for rtpengine keep working. */
export const VERSION = `${COMPATIBLE_WITH}+rtpengine-ts.${pkg.version}`;

/** What `--version` prints (the reference prints `Version: <version>` on stderr). */
export function versionText(): string {
  return `Version: ${VERSION}\n`;
}

export function helpText(): string {
  const left = (o: (typeof OPTIONS)[number]): string =>
    `${o.short ? `-${o.short}, ` : ""}--${o.long}${o.arg !== "none" && o.argName ? `=${o.argName}` : ""}`;
  const rows: [string, string][] = OPTIONS.map((o) => [left(o), o.implemented ? o.help : `${o.help} [not implemented yet]`]);
  const width = Math.max(...rows.map(([l]) => l.length), "-h, --help".length) + 4;
  const line = ([l, r]: [string, string]) => `  ${l.padEnd(width)}${r}`;
  return [
    "Usage:",
    "  rtpengine [OPTION…]  - media proxy for RTP and other UDP media (rtpengine-ts)",
    "",
    "Help Options:",
    line(["-h, --help", "Show help options"]),
    "",
    "Application Options:",
    ...rows.map(line),
    "",
    `Options can also be set in /etc/rtpengine/rtpengine.conf, section [rtpengine], by their long names.`,
    "",
  ].join("\n");
}
