// --functions: the biggest functions of our add-header, from a release build with --debug names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fmt, table } from "../stats.js";
import { functionSizes } from "../wasm-sizes.js";
import { ASC, OUT, ROOT, run } from "./subjects.js";

export function functionReport(): string {
  const dir = join(ROOT, "examples/add-header");
  const out = join(OUT, "proxy-wasm-as-add-header.debug.wasm");
  const error = run(process.execPath, [ASC, "assembly/index.ts", "--target", "release", "--debug", "-o", out], dir);
  if (error) return `add-header --debug build: ${error}`;
  const bytes = readFileSync(out);
  const fns = functionSizes(bytes);
  const total = fns.reduce((a, f) => a + f.bytes, 0);
  const rows = [["function (release build with --debug names)", "bytes", "share of code"]];
  for (const f of fns.slice(0, 30)) rows.push([f.name, fmt(f.bytes), `${fmt((100 * f.bytes) / total, 1)}%`]);
  return `examples/add-header: ${fns.length} functions, ${fmt(total)} bytes of code\n${table(rows)}`;
}
