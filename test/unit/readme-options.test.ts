// Keeps the README true: its option table must be the one the option definitions produce.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BEGIN, END, README, optionsTable } from "../../scripts/options-table.ts";

test("README option table matches src/config/options.ts (regenerate: bun scripts/options-table.ts --write)", () => {
  const text = readFileSync(README, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  expect(a).toBeGreaterThan(0);
  expect(text.slice(a + BEGIN.length, b).trim()).toBe(optionsTable());
});
