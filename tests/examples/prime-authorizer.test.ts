import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Header, type Plugin } from "../../host/index.js";
import { examplePlugin } from "../support/plugins.js";

const wasm = examplePlugin("prime-authorizer");

function startedPlugin(configuration = ""): Plugin {
  const plugin = createPlugin(wasm, { configuration });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin;
}

const plugin = startedPlugin();

function assertAllowed(headers: Header[], through: Plugin = plugin) {
  const result = through.runHttpRequest({ requestHeaders: headers });
  assert.equal(result.localResponse, null, `denied: ${JSON.stringify(headers)}`);
  assert.equal(result.stopped, null);
  assert.ok(result.upstreamRequest, "the upstream must see an allowed request");
}

function assertDenied(headers: Header[], through: Plugin = plugin) {
  const result = through.runHttpRequest({ requestHeaders: headers, requestBody: ["secret"] });
  assert.equal(result.stopped, "local_response", `allowed: ${JSON.stringify(headers)}`);
  assert.equal(result.localResponse?.status, 403);
  assert.equal(result.localResponse?.body, "Access forbidden.");
  assert.equal(result.upstreamRequest, null, "the upstream must never see a denied request");
  assert.equal(result.downstreamResponse?.body, "Access forbidden.");
}

describe("prime-token authorizer", () => {
  it("lets prime tokens through, up to the largest u64 prime", () => {
    for (const token of ["2", "3", "13", "7919", "2147483647", "2305843009213693951", "18446744073709551557", "0013"]) {
      assertAllowed([["token", token]]);
    }
  });

  it("denies a missing or empty token", () => {
    assertDenied([]);
    assertDenied([["token", ""]]);
  });

  it("denies tokens that are not plain decimal numbers", () => {
    for (const token of ["abc", "-7", "+7", " 7", "7 ", "0x7", "1e3", "7.0", "٣"]) assertDenied([["token", token]]);
  });

  it("denies 0, 1, composites and Carmichael numbers", () => {
    for (const token of ["0", "1", "4", "561", "3215031751", "18446744073709551615", "18446744030759878681"]) {
      assertDenied([["token", token]]);
    }
  });

  it("denies numbers beyond u64 in bounded time", () => {
    assertDenied([["token", "18446744073709551616"]]);
    const started = process.hrtime.bigint();
    assertDenied([["token", "9".repeat(60000)]]);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
  });

  it("denies duplicate token headers, even when one is prime", () => {
    assertDenied([["token", "13"], ["token", "15"]]);
    assertDenied([["token", "13"], ["token", "13"]]);
  });

  it("ignores other headers and a token in the body", () => {
    assertDenied([["x-token", "13"], ["authorization", "13"]]);
    const result = plugin.runHttpRequest({ requestHeaders: [], requestBody: ["token: 13"] });
    assert.equal(result.localResponse?.status, 403);
  });

  it("reads a configured header name", () => {
    const custom = startedPlugin('{"header": "X-Prime"}');
    assertAllowed([["x-prime", "31"]], custom);
    assertDenied([["token", "31"]], custom);
    assertAllowed([["x-prime", "31"]], startedPlugin("x-prime"));
  });

  it("refuses a malformed configuration with one error naming the field", () => {
    const refused: [string, string][] = [
      ['{"header": ', "invalid JSON: unexpected end at 10"],
      ['{"header": 5}', "header: expected a string, got 5"],
      ['{"header": ""}', "header: expected a regular header name"],
      ['{"header": ":path"}', "header: expected a regular header name"],
      ['{"head": "x"}', "head: unknown field (expected one of: header)"],
      ["[1]", "expected a JSON object, got an array"],
      ["a b", "header: expected a regular header name"],
    ];
    for (const [configuration, problem] of refused) {
      const start = createPlugin(wasm, { configuration, reportFailures: false }).start();
      assert.equal(start.ok, false, configuration);
      const errors = start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message);
      assert.deepEqual(errors, [`invalid configuration: ${problem}`], configuration);
    }
  });
});
