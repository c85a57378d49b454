// tests/filters/traps: where each trap kind is in its source (found by the "trap:" and "break:" markers).

import { readFileSync } from "node:fs";
import { repoRoot } from "../support/plugins.js";

export const trapsDir = `${repoRoot}tests/filters/traps`;
export const trapsSource = `${trapsDir}/assembly/index.ts`;
/** tests/filters/trap-inlined: the init scaffold's filter, whose release build inlines its trap into the SDK. */
export const inlinedDir = `${repoRoot}tests/filters/trap-inlined`;
export const inlinedSource = `${inlinedDir}/assembly/index.ts`;

/** The 1-based line of `source` that carries `marker` (e.g. "trap: unreachable"). */
export function markerLine(marker: string, source = trapsSource): number {
  const lines = readFileSync(source, "utf8").split("\n");
  const index = lines.findIndex((l) => l.trimEnd().endsWith(`// ${marker}`));
  if (index < 0) throw new Error(`no "${marker}" marker in ${source}`);
  return index + 1;
}
