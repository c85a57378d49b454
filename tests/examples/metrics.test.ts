import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { examplePlugin } from "../support/plugins.js";

const wasm = examplePlugin("metrics");

describe("metrics", () => {
  it("counts requests by method and responses by class, with tags in the names", () => {
    const plugin = createPlugin(wasm);
    assert.equal(plugin.start().ok, true);
    const exchanges: [string, string][] = [["GET", "200"], ["GET", "404"], ["POST", "201"], ["BREW", "503"], ["PUT", "1000"]];
    for (const [method, status] of exchanges) {
      plugin.runHttpRequest({ requestHeaders: [[":method", method]], responseHeaders: [[":status", status]] });
    }
    const value = (name: string) => plugin.metric(name)?.value;
    assert.equal(value("requests_total.method=GET"), 2n);
    assert.equal(value("requests_total.method=POST"), 1n);
    assert.equal(value("requests_total.method=PUT"), 1n);
    assert.equal(value("requests_total.method=other"), 1n);
    assert.equal(value("responses_total.class=2xx"), 2n);
    assert.equal(value("responses_total.class=4xx"), 1n);
    assert.equal(value("responses_total.class=5xx"), 1n);
    assert.equal(value("responses_total.class=other"), 1n);
    assert.equal(value("requests_in_flight"), 0n, "the gauge returns to zero after each stream");
  });

  it("tracks requests in flight and records durations from the host's clock", () => {
    const plugin = createPlugin(wasm, { now: 1_700_000_000_000 });
    assert.equal(plugin.start().ok, true);
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":method", "GET"]], true);
    assert.equal(plugin.metric("requests_in_flight")?.value, 1n);
    plugin.advanceTime(42);
    stream.sendResponseHeaders([[":status", "200"]], true);
    stream.complete();
    assert.equal(plugin.metric("requests_in_flight")?.value, 0n);
    assert.deepEqual(plugin.metric("request_duration_ms")?.samples, [42n]);
  });
});
