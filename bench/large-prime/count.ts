// Counting the wasm instructions a call executes: the module, as text, gets a counter global bumped before
// every instruction (and a second one before every memory load) (all but the block, loop, else and end markers, which only shape control flow), then
// runs in V8 like any other module. A third counts calls into the module's functions, the host's callbacks
// included (a function with an empty body is not counted). The counters change no value the module computes.
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
  let entered = false;
  for (const line of text.split("\n")) {
    const code = line.trim();
    if (code.startsWith("(func")) {
      inFunction = true;
      entered = false;
    } else if (code.startsWith("(") || code === ")") {
      inFunction = code.startsWith("(local") || code.startsWith("(param") || code.startsWith("(result") ? inFunction : false;
    }
    // A function's first line after its signature and locals counts the call (an empty body has none).
    if (inFunction && !entered && code && !code.startsWith("(")) {
      out.push(...bump("$__calls"));
      entered = true;
    }
    if (inFunction && code && !code.startsWith("(") && !MARKERS.test(code)) {
      out.push(...bump("$__count"));
      if (LOAD.test(code)) out.push(...bump("$__loads"));
    }
    out.push(line);
  }
  // Every reference is by name (applyNames), so the counters can be declared anywhere after the imports.
  let at = out.findIndex((line) => line.startsWith("(module")) + 1;
  out.forEach((line, i) => {
    if (line.trim().startsWith("(import")) at = i + 1;
  });
  out.splice(
    at, 0,
    '  (global $__count (export "__count") (mut i64) (i64.const 0))',
    '  (global $__loads (export "__loads") (mut i64) (i64.const 0))',
    '  (global $__calls (export "__calls") (mut i64) (i64.const 0))',
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
