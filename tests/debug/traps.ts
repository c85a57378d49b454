// tests/filters/traps: where each trap kind is in its source (found by the "trap:" and "break:" markers).

import { readFileSync } from "node:fs";
import { repoRoot } from "../support/plugins.js";

export const trapsDir = `${repoRoot}tests/filters/traps`;
export const trapsSource = `${trapsDir}/assembly/index.ts`;

/** The 1-based line that carries `marker` (e.g. "trap: unreachable"). */
export function markerLine(marker: string): number {
  const lines = readFileSync(trapsSource, "utf8").split("\n");
  const index = lines.findIndex((l) => l.trimEnd().endsWith(`// ${marker}`));
  if (index < 0) throw new Error(`no "${marker}" marker in ${trapsSource}`);
  return index + 1;
}
