// What a request costs inside the module, counted on an instrumented copy of it (bench/large-prime/count.ts)
// run by our host: wasm instructions and calls are deterministic for the pinned asc, so these are exact
// checks, not timings, as the footprint's sizes are. The prime authorizer's denied request is the SDK's
// header lookup, a log line below the level and a constant local reply.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { withInstructionCounter } from "../../bench/large-prime/count.js";
import { createPlugin, type Header, type Plugin } from "../../host/index.js";
import { examplePlugin } from "../support/plugins.js";

interface Counted {
  plugin: Plugin;
  instructions: WebAssembly.Global;
  calls: WebAssembly.Global;
}

/** `wasm` instrumented and started; the host keeps its instance to itself, so it is caught as it is made. */
async function counted(wasm: Uint8Array): Promise<Counted> {
  const bytes = await withInstructionCounter(wasm);
  const RealInstance = WebAssembly.Instance;
  let exports: WebAssembly.Exports | undefined;
  function Catching(module: WebAssembly.Module, imports?: WebAssembly.Imports): WebAssembly.Instance {
    const instance = new RealInstance(module, imports);
    exports = instance.exports;
    return instance;
  }
  Catching.prototype = RealInstance.prototype;
  (WebAssembly as { Instance: unknown }).Instance = Catching;
  let plugin: Plugin;
  try {
    plugin = createPlugin(bytes, {});
    const start = plugin.start();
    assert.equal(start.ok, true, `start failed: ${start.error}`);
  } finally {
    (WebAssembly as { Instance: unknown }).Instance = RealInstance;
  }
  assert.ok(exports, "the host made no instance");
  return { plugin, instructions: exports.__count as WebAssembly.Global, calls: exports.__calls as WebAssembly.Global };
}

/** Instructions and calls per request, averaged over enough requests to include the log level's refresh (every 256 contexts). */
function perRequest(c: Counted, headers: Header[], n = 1024): { instructions: number; calls: number } {
  for (let i = 0; i < 300; i++) c.plugin.runHttpRequest({ requestHeaders: headers });
  c.instructions.value = 0n;
  c.calls.value = 0n;
  for (let i = 0; i < n; i++) c.plugin.runHttpRequest({ requestHeaders: headers });
  return { instructions: Number(c.instructions.value) / n, calls: Number(c.calls.value) / n };
}

const DENIED: Header[] = [[":method", "GET"], [":path", "/"], [":authority", "localhost"], [":scheme", "http"], ["user-agent", "bench"], ["token", "7917"]];

let authorizer: Counted;

before(async () => {
  authorizer = await counted(examplePlugin("prime-authorizer"));
});

describe("work per request inside the module", () => {
  it("the authorizer's denied request calls no helper out of line", () => {
    const { instructions, calls } = perRequest(authorizer, DENIED);
    const result = authorizer.plugin.runHttpRequest({ requestHeaders: DENIED });
    assert.equal(result.localResponse?.status, 403, "the instrumented copy still denies");
    // 36 calls and 1,232 instructions when byteLength, encodeCached's slots, log.write below the level and the
    // decimal parser were each a call; raw (bench/raw/prime-authorizer) makes 4 and runs 671.
    assert.ok(calls <= 16, `${calls} calls per request`);
    assert.ok(instructions <= 1150, `${instructions} instructions per request`);
  });
});
