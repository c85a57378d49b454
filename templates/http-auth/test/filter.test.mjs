// Runs build/plugin.wasm on proxy-wasm-as's Envoy-like host (`npm test` builds it first).
// The host does not call anyone: each test answers the filter's http_call itself.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { createPlugin } from "proxy-wasm-as/testing";

// By path, so a trap names its line in assembly/ (from build/plugin.wasm.map) and a debugger finds the source.
const wasm = fileURLToPath(new URL("../build/plugin.wasm", import.meta.url));
const header = (headers, name) => headers.find(([k]) => k === name)?.[1];

function started() {
  const plugin = createPlugin(wasm, { configuration: '{"cluster": "auth", "path": "/check"}' });
  const start = plugin.start();
  assert.equal(start.ok, true, start.error);
  return plugin;
}

describe("{{name}}", () => {
  it("holds the request until the auth service answers, then forwards it with the user", () => {
    const plugin = started();
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":method", "GET"], [":path", "/"], [":authority", "example"], ["authorization", "Bearer good"], ["x-auth-user", "mallory"]], true);
    assert.equal(stream.requestComplete, false, "paused while the auth call is out");
    const [call] = plugin.pendingHttpCalls();
    assert.equal(call.upstream, "auth");
    assert.equal(header(call.headers, ":path"), "/check");
    assert.equal(header(call.headers, "authorization"), "Bearer good");

    plugin.respondToHttpCall(call.token, { headers: [[":status", "200"], ["x-auth-user", "alice"]] });
    assert.equal(stream.requestComplete, true);
    assert.equal(header(stream.result().upstreamRequest.headers, "x-auth-user"), "alice");
    stream.complete();
  });

  it("answers 401 when the auth service says so", () => {
    const result = started().runHttpRequest({ httpCallResponses: [{ headers: [[":status", "401"]] }] });
    assert.equal(result.localResponse.status, 401);
    assert.equal(result.upstreamRequest, null);
  });

  it("answers 503 when the auth call fails", () => {
    const result = started().runHttpRequest({ httpCallResponses: ["fail"] });
    assert.equal(result.localResponse.status, 503);
  });

  it("refuses a configuration without a cluster", () => {
    assert.equal(createPlugin(wasm, { configuration: "{}" }).start().ok, false);
  });
});
