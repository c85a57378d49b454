import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Header } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("body-rewrite");

function response(body: string[], headers: Header[] = [["content-type", "application/json"], ["content-length", "99"]], configuration = '{"field": "status", "value": "rewritten"}') {
  const plugin = createPlugin(wasm, { configuration });
  assert.equal(plugin.start().ok, true);
  return plugin.runHttpRequest({ responseHeaders: [[":status", "200"], ...headers], responseBody: body }).downstreamResponse!;
}

describe("body-rewrite", () => {
  it("rewrites the field of a JSON body that arrives in chunks, and drops content-length", () => {
    const result = response(['{"status": "fail', 'ing", "n": [1, 2.50', ']}']);
    assert.equal(result.body, '{"status":"rewritten","n":[1,2.50]}');
    assert.equal(headerValue(result.headers, "content-length"), undefined);
  });

  it("adds the field when the object lacks it, with any JSON value", () => {
    assert.equal(response(['{"a": 1}'], undefined, '{"field": "meta", "value": {"v": [true, null]}}').body, '{"a":1,"meta":{"v":[true,null]}}');
  });

  it("leaves other content types and non-object bodies alone", () => {
    assert.equal(response(['{"status": "x"}'], [["content-type", "text/plain"]]).body, '{"status": "x"}');
    assert.equal(response(["[1, 2]"]).body, "[1, 2]");
    assert.equal(response(['{"status": ']).body, '{"status": ');
    assert.equal(response(['{"status": 1}'], [["content-type", "application/problem+json; charset=utf-8"]]).body, '{"status":"rewritten"}');
  });

  it("passes bodies over the limit on unchanged", () => {
    const big = JSON.stringify({ status: "x", pad: "y".repeat(200) });
    assert.equal(response([big.slice(0, 100), big.slice(100)], undefined, '{"field": "status", "value": 1, "maxBodyBytes": 64}').body, big);
  });

  it("names the field and what was expected when it refuses a configuration", () => {
    const start = createPlugin(wasm, { configuration: '{"field": "a", "value": 1, "maxBodyBytes": 0}' }).start();
    assert.deepEqual(start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message), [
      "invalid configuration: maxBodyBytes: expected an integer from 1 to 67108864, got 0",
    ]);
    const missing = createPlugin(wasm, { configuration: '{"field": "a"}' }).start();
    assert.deepEqual(missing.logs.filter((entry) => entry.level === "error").map((entry) => entry.message), [
      "invalid configuration: value: missing (required: any JSON value)",
    ]);
  });

  it("refuses bad configurations", () => {
    for (const configuration of ["", "{}", '{"field": "a"}', '{"field": "", "value": 1}', '{"field": "a", "value": 1, "maxBodyBytes": 0}', '{"field": "a", "value": 1, "maxBody": 5}']) {
      assert.equal(createPlugin(wasm, { configuration }).start().ok, false, configuration);
    }
  });
});
