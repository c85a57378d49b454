// A filter's entry file re-exports the ABI with one line. Without it the SDK's callbacks are never
// exported and the preset's `use abort=proxyWasmAbort` names a function that was never parsed, which
// asc reports as four unrelated errors deep inside the SDK; the build says which line to add instead.
import type { Source } from "assemblyscript";
import { libraryPrefix } from "assemblyscript/asc";
import { USER_ENTRY } from "./kinds.js";

export const EXPORTS_LINE = 'export * from "proxy-wasm-as/assembly/exports";';

export function missingExportsMessage(sources: Source[]): string {
  // asc parses its runtime as an entry too.
  const entries = sources
    .filter((source) => source.sourceKind === USER_ENTRY && !source.normalizedPath.startsWith(libraryPrefix))
    .map((source) => source.normalizedPath);
  const where = entries.length ? entries.join(", ") : "the filter's entry file";
  return `the filter does not export the Proxy-Wasm ABI: add this line to ${where}: ${EXPORTS_LINE}`;
}
