// Runs build/plugin.wasm on proxy-wasm-as's Envoy-like host (`npm test` builds it first).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { createPlugin } from "proxy-wasm-as/testing";

// By path, so a trap names its line in assembly/ (from build/plugin.wasm.map) and a debugger finds the source.
const wasm = fileURLToPath(new URL("../build/plugin.wasm", import.meta.url));

function started(configuration = "") {
  const plugin = createPlugin(wasm, { configuration });
  const start = plugin.start();
  assert.equal(start.ok, true, start.error);
  return plugin;
}

describe("{{name}}", () => {
  it("passes data both ways and counts it", () => {
    const plugin = started();
    const result = plugin.runTcpConnection({ downstreamData: ["hello ", "server"], upstreamData: ["hi"] });
    assert.equal(result.upstreamData, "hello server");
    assert.equal(result.downstreamData, "hi");
    assert.equal(result.closedBy === "plugin", false);
    assert.equal(plugin.metric("{{metric}}.downstream_bytes")?.value, 12n);
  });

  it("closes the connection on the blocked word, even split across reads", () => {
    const plugin = started('{"blocked": "DROP TABLE"}');
    const result = plugin.runTcpConnection({ downstreamData: ["SELECT 1; DR", "OP TABLE users"] });
    assert.equal(result.closedBy, "plugin");
    assert.equal(result.upstreamData, "SELECT 1; DR");
  });
});
