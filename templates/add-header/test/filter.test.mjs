// Runs build/plugin.wasm on proxy-wasm-as's Envoy-like host (`npm test` builds it first).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { createPlugin } from "proxy-wasm-as/testing";

// By path, so a trap names its line in assembly/ (from build/plugin.wasm.map) and a debugger finds the source.
const wasm = fileURLToPath(new URL("../build/plugin.wasm", import.meta.url));
const header = (headers, name) => headers.find(([k]) => k === name)?.[1];

describe("{{name}}", () => {
  it("adds hello: world by default", () => {
    const plugin = createPlugin(wasm);
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest({ responseHeaders: [[":status", "200"]] });
    assert.equal(header(result.downstreamResponse.headers, "hello"), "world");
  });

  it("adds the configured header", () => {
    const plugin = createPlugin(wasm, { configuration: '{"name": "x-team", "value": "edge"}' });
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest();
    assert.equal(header(result.downstreamResponse.headers, "x-team"), "edge");
  });

  it("refuses a configuration that is not JSON, as Envoy would", () => {
    const start = createPlugin(wasm, { configuration: "{nope" }).start();
    assert.equal(start.ok, false);
    assert.match(start.logs.map((l) => l.message).join("\n"), /invalid configuration/);
  });
});
