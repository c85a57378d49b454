// Runs build/plugin.wasm on proxy-wasm-as's Envoy-like host (`npm test` builds it first).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, it } from "node:test";
import { createPlugin, resetSharedState } from "proxy-wasm-as/testing";

// By path, so a trap names its line in assembly/ (from build/plugin.wasm.map) and a debugger finds the source.
const wasm = fileURLToPath(new URL("../build/plugin.wasm", import.meta.url));

function started(configuration) {
  const plugin = createPlugin(wasm, { configuration, now: Date.UTC(2025, 0, 1) });
  const start = plugin.start();
  assert.equal(start.ok, true, start.error);
  return plugin;
}
const status = (result) => result.localResponse?.status ?? 200;

describe("{{name}}", () => {
  beforeEach(() => resetSharedState()); // buckets live in shared data, which outlives a plugin

  it("lets the burst through, then answers 429 with retry-after", () => {
    const plugin = started('{"requestsPerSecond": 1, "burst": 2, "keyHeader": "x-api-key"}');
    /** @type {import("proxy-wasm-as/testing").RequestSpec} */
    const request = { requestHeaders: [["x-api-key", "a"]] };
    assert.deepEqual([1, 2, 3].map(() => status(plugin.runHttpRequest(request))), [200, 200, 429]);
    const limited = plugin.runHttpRequest(request);
    assert.ok(limited.localResponse.headers.some(([k]) => k === "retry-after"));
  });

  it("refills with time", () => {
    const plugin = started('{"requestsPerSecond": 1, "burst": 1, "keyHeader": "x-api-key"}');
    /** @type {import("proxy-wasm-as/testing").RequestSpec} */
    const request = { requestHeaders: [["x-api-key", "a"]] };
    assert.equal(status(plugin.runHttpRequest(request)), 200);
    assert.equal(status(plugin.runHttpRequest(request)), 429);
    plugin.advanceTime(1000);
    assert.equal(status(plugin.runHttpRequest(request)), 200);
  });

  it("keeps one bucket per key", () => {
    const plugin = started('{"requestsPerSecond": 1, "burst": 1, "keyHeader": "x-api-key"}');
    assert.equal(status(plugin.runHttpRequest({ requestHeaders: [["x-api-key", "a"]] })), 200);
    assert.equal(status(plugin.runHttpRequest({ requestHeaders: [["x-api-key", "b"]] })), 200);
  });

  it("refuses a configuration without a rate", () => {
    assert.equal(createPlugin(wasm, { configuration: "{}" }).start().ok, false);
  });
});
