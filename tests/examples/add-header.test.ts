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

/** The lines logged at error level (the host's own lines included, so "exactly one" means one in all). */
function errorLines(start: { logs: { level: string; message: string }[] }): string[] {
  return start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message);
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
    assert.deepEqual(errorLines(start), ["invalid configuration: invalid JSON: expected string at 19"]);
    assert.match(start.error ?? "", /on_configure/);
  });

  it("refuses JSON of the wrong shape with one error naming the field and what it expects", () => {
    const cases: [string, string][] = [
      ['{"name": 7}', "name: expected a string, got 7"],
      ['{"value": false}', "value: expected a string, got false"],
      ['{"value": null}', "value: expected a string, got null"],
      ['{"name": {"x": 1}}', "name: expected a string, got an object"],
      ['{"nmae": "x-team"}', "nmae: unknown field (expected one of: name, value)"],
      ['{"name": "a", "name": "b"}', "name: given more than once"],
      ["[1, 2]", "expected a JSON object, got an array"],
      ['{"name": "bad name"}', "name: expected a header name"],
      ['{"name": ""}', "name: expected a header name"],
      ['{"value": "a\\r\\nset-cookie: x"}', "value: expected no control characters"],
      ["tomorrow\r\nset-cookie: x", "value: expected no control characters"],
    ];
    for (const [configuration, problem] of cases) {
      assert.deepEqual(errorLines(startError(configuration)), [`invalid configuration: ${problem}`], configuration);
    }
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
