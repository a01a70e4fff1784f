// Prints the README's option table from the option table in src/config/options.ts (run: bun scripts/options-table.ts).
import { OPTIONS } from "../src/config/options.ts";

const rows = OPTIONS.map((o) => {
  const names = `\`--${o.long}\`` + (o.short ? ` / \`-${o.short}\`` : "");
  return `| ${names} | ${o.implemented ? "yes" : "parsed, validated, reported at startup as not supported"} | ${o.help.replace(/\|/g, "\\|")} |`;
});
const done = OPTIONS.filter((o) => o.implemented).length;
console.log(`${done} of ${OPTIONS.length} options are implemented.\n`);
console.log("| option | implemented | meaning |\n| --- | --- | --- |");
console.log(rows.join("\n"));
