// Counting the wasm instructions a call executes: the module, as text, gets a counter global bumped before
// every instruction (and a second one before every memory load) (all but the block, loop, else and end markers, which only shape control flow), then
// runs in V8 like any other module. The counter changes no value the module computes.
import wabtInit from "wabt";

const MARKERS = /^(block|loop|else|end)\b/;
const bump = (counter: string) => [`global.get ${counter}`, "i64.const 1", "i64.add", `global.set ${counter}`];
const LOAD = /^[if](32|64)\.load/;

export async function withInstructionCounter(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const features = { mutable_globals: true, sat_float_to_int: true, sign_extension: true, bulk_memory: true };
  const module = wabt.readWasm(bytes, { readDebugNames: true, ...features });
  module.generateNames();
  module.applyNames();
  const text = module.toText({ foldExprs: false, inlineExport: false });
  module.destroy();
  const out: string[] = [];
  let inFunction = false;
  for (const line of text.split("\n")) {
    const code = line.trim();
    if (code.startsWith("(func")) inFunction = true;
    else if (code.startsWith("(") || code === ")") inFunction = code.startsWith("(local") || code.startsWith("(param") || code.startsWith("(result") ? inFunction : false;
    if (inFunction && code && !code.startsWith("(") && !MARKERS.test(code)) {
      out.push(...bump("$__count"));
      if (LOAD.test(code)) out.push(...bump("$__loads"));
    }
    out.push(line);
  }
  // Every reference is by name (applyNames), so the counter can be declared first.
  const start = out.findIndex((line) => line.startsWith("(module"));
  out.splice(
    start + 1, 0,
    '  (global $__count (export "__count") (mut i64) (i64.const 0))',
    '  (global $__loads (export "__loads") (mut i64) (i64.const 0))',
  );
  let parsed;
  try {
    parsed = wabt.parseWat("counted.wat", out.join("\n"), features);
  } catch (e) {
    throw new Error(`the instrumented module does not parse: ${String((e as Error).message).slice(0, 500)}`);
  }
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return new Uint8Array(buffer);
}
