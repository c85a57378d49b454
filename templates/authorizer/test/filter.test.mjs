// Runs build/plugin.wasm on proxy-wasm-as's Envoy-like host (`npm test` builds it first).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { createPlugin } from "proxy-wasm-as/testing";

// By path, so a trap names its line in assembly/ (from build/plugin.wasm.map) and a debugger finds the source.
const wasm = fileURLToPath(new URL("../build/plugin.wasm", import.meta.url));

function started(configuration = '{"keys": ["secret", "other"]}') {
  const plugin = createPlugin(wasm, { configuration });
  const start = plugin.start();
  assert.equal(start.ok, true, start.error);
  return plugin;
}

describe("{{name}}", () => {
  it("forwards a request with a known key, without the key", () => {
    const result = started().runHttpRequest({ requestHeaders: [["x-api-key", "other"]] });
    assert.equal(result.localResponse, null);
    assert.ok(result.upstreamRequest, "the upstream saw the request");
    assert.equal(result.upstreamRequest.headers.find(([k]) => k === "x-api-key"), undefined);
  });

  it("answers 401 without a key, and the upstream sees nothing", () => {
    const result = started().runHttpRequest();
    assert.equal(result.localResponse.status, 401);
    assert.equal(result.upstreamRequest, null);
  });

  it("answers 401 for two keys, even if one is good", () => {
    const result = started().runHttpRequest({ requestHeaders: [["x-api-key", "secret"], ["x-api-key", "bad"]] });
    assert.equal(result.localResponse.status, 401);
  });

  it("reads the key from the configured header", () => {
    const result = started('{"header": "authorization", "keys": ["Bearer t"]}').runHttpRequest({ requestHeaders: [["authorization", "Bearer t"]] });
    assert.equal(result.localResponse, null);
  });

  it("refuses a configuration without keys", () => {
    assert.equal(createPlugin(wasm, { configuration: "{}" }).start().ok, false);
  });
});
