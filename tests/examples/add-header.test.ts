import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkModule, createPlugin } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("add-header");

function responseHeadersWith(configuration: string): [string, string][] {
  const plugin = createPlugin(wasm, { configuration });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  const result = plugin.runHttpRequest({ responseHeaders: [[":status", "200"], ["content-type", "text/plain"]] });
  assert.equal(result.stopped, null);
  assert.ok(result.downstreamResponse);
  return result.downstreamResponse.headers;
}

function startError(configuration: string) {
  const start = createPlugin(wasm, { configuration }).start();
  assert.equal(start.ok, false, "the plugin must refuse this configuration");
  return start;
}

describe("add-header", () => {
  it("adds hello: world with an empty configuration", () => {
    assert.equal(headerValue(responseHeadersWith(""), "hello"), "world");
  });

  it("adds the configured header from JSON", () => {
    const headers = responseHeadersWith('{"name": "x-team", "value": "edge"}');
    assert.equal(headerValue(headers, "x-team"), "edge");
    assert.equal(headerValue(headers, "hello"), undefined);
    assert.equal(headerValue(headers, "content-type"), "text/plain");
  });

  it("lower-cases the configured name, as Envoy stores it", () => {
    assert.equal(headerValue(responseHeadersWith('{"name": "X-Team", "value": "edge"}'), "x-team"), "edge");
  });

  it("uses a configuration that is not JSON as the value of hello", () => {
    assert.equal(headerValue(responseHeadersWith("tomorrow"), "hello"), "tomorrow");
  });

  it("defaults the fields a JSON configuration leaves out", () => {
    assert.equal(headerValue(responseHeadersWith('{"value": "there"}'), "hello"), "there");
    assert.equal(headerValue(responseHeadersWith("{}"), "hello"), "world");
  });

  it("keeps UTF-8 values intact", () => {
    assert.equal(headerValue(responseHeadersWith('{"value": "grüß \\u2713"}'), "hello"), "grüß ✓");
  });

  it("refuses malformed JSON with the reason at error level", () => {
    const start = startError('{"name": "x-team", ');
    const errors = start.logs.filter((entry) => entry.level === "error" && entry.message.startsWith("add-header:"));
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /add-header: invalid configuration: expected string at 19$/);
    assert.match(start.error ?? "", /on_configure/);
  });

  it("refuses JSON of the wrong shape", () => {
    assert.match(startError('{"name": 7}').logs.map((l) => l.message).join("\n"), /'name' must be a string/);
    assert.match(startError('{"value": false}').logs.map((l) => l.message).join("\n"), /'value' must be a string/);
    assert.match(startError('{"name": "bad name"}').logs.map((l) => l.message).join("\n"), /header name/);
    assert.match(startError("[1, 2]").logs.map((l) => l.message).join("\n"), /add-header: invalid configuration: must be a JSON object/);
    assert.match(startError('{"value": "a\\r\\nset-cookie: x"}').logs.map((l) => l.message).join("\n"), /control characters/);
  });

  it("leaves the request untouched", () => {
    const plugin = createPlugin(wasm);
    plugin.start();
    const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/x"], ["accept", "*/*"]], requestBody: ["ping"] });
    assert.equal(headerValue(result.upstreamRequest?.headers, ":path"), "/x");
    assert.equal(headerValue(result.upstreamRequest?.headers, "accept"), "*/*");
    assert.equal(headerValue(result.upstreamRequest?.headers, "hello"), undefined);
    assert.equal(result.upstreamRequest?.body, "ping");
  });

  it("serves many requests from one VM", () => {
    const plugin = createPlugin(wasm, { configuration: '{"name": "n", "value": "v"}' });
    plugin.start();
    for (let i = 0; i < 200; i++) {
      assert.equal(headerValue(plugin.runHttpRequest().downstreamResponse?.headers, "n"), "v");
    }
  });

  it("is Envoy-ready: only Envoy's imports, the ABI marker, the allocator, no start section", () => {
    const check = checkModule(wasm);
    assert.deepEqual(check.problems, []);
    assert.equal(check.ok, true);
    assert.equal(check.abiVersion, "0.2.1");
    const importNames = check.imports.map((entry: { module: string; name: string }) => `${entry.module}.${entry.name}`);
    assert.ok(importNames.every((name: string) => name.startsWith("env.proxy_")), importNames.join(", "));
  });
});
