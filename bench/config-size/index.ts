// What the typed configuration reader costs in plugin.wasm: examples/add-header (a @configuration class read with
// parseConfiguration) against the same filter reading its JSON by hand (hand-add-header/, the example as it was
// before). Both are built here with the package preset, and again with --debug names (the same code: names only
// add a custom section) to list the functions whose size differs between them.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ASC, OUT, ROOT, run } from "../requests/subjects.js";
import type { Section } from "../section.js";
import { fmt, table } from "../stats.js";
import { functionSizes } from "../wasm-sizes.js";

interface ConfigSize {
  typed: number;
  hand: number;
  /** Functions whose code differs in size, typed minus hand-written (0 where a build lacks the function). */
  functions: { name: string; typed: number; hand: number }[];
}

function signed(n: number): string {
  return `${n > 0 ? "+" : ""}${fmt(n)}`;
}

function build(dir: string, out: string, extra: string[] = []): Uint8Array | string {
  const error = run(process.execPath, [ASC, "assembly/index.ts", "--target", "release", ...extra, "-o", out], dir);
  return error ?? readFileSync(out);
}

export const configSizeSection: Section = {
  name: "config-size",
  run() {
    mkdirSync(OUT, { recursive: true });
    const typedDir = join(ROOT, "examples/add-header");
    const handDir = join(ROOT, "bench/config-size/hand-add-header");
    const builds = [
      build(typedDir, join(OUT, "config-size-typed-add-header.wasm")),
      build(handDir, join(OUT, "config-size-hand-add-header.wasm")),
      build(typedDir, join(OUT, "config-size-typed-add-header.debug.wasm"), ["--debug"]),
      build(handDir, join(OUT, "config-size-hand-add-header.debug.wasm"), ["--debug"]),
    ];
    const failed = builds.find((result): result is string => typeof result === "string");
    if (failed) return { text: `config-size: ${failed}`, json: { error: failed }, targets: [] };
    const [typed, hand, typedNamed, handNamed] = builds as Uint8Array[];
    const typedFunctions = new Map(functionSizes(typedNamed).map((f) => [f.name, f.bytes]));
    const handFunctions = new Map(functionSizes(handNamed).map((f) => [f.name, f.bytes]));
    const size: ConfigSize = {
      typed: typed.byteLength,
      hand: hand.byteLength,
      functions: [...new Set([...typedFunctions.keys(), ...handFunctions.keys()])]
        .map((name) => ({ name, typed: typedFunctions.get(name) ?? 0, hand: handFunctions.get(name) ?? 0 }))
        .filter((f) => f.typed !== f.hand)
        .sort((a, b) => b.typed - b.hand - (a.typed - a.hand)),
    };
    const rows = [
      ["add-header plugin.wasm (release)", "bytes"],
      ["typed: @configuration class, parseConfiguration", fmt(size.typed)],
      ["hand-written: parseJson, get, kind checks", fmt(size.hand)],
      ["the typed reader's cost", signed(size.typed - size.hand)],
    ];
    const functions = [["function whose size differs (--debug names)", "typed", "hand-written", "difference"]];
    for (const f of size.functions) {
      functions.push([f.name.replace(/^~lib\/proxy-wasm-as\//, ""), fmt(f.typed), fmt(f.hand), signed(f.typed - f.hand)]);
    }
    const text =
      `${table(rows)}\n\n${table(functions)}\n` +
      "(the generated reader is inlined into parseConfiguration; its messages are UTF-8 static data, in the data section)";
    return { text, json: size, targets: [] };
  },
};
