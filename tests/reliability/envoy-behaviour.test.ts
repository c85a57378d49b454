// Traps mid-stream, bad configurations, authorizer bypass attempts and body limits, each as Envoy
// would answer them, through the real examples and tests/filters/reliability.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type RequestSpec } from "../../host/index.js";
import { examplePlugin, headerValue, testFilter } from "../support/plugins.js";

const reliability = testFilter("reliability");
const SECRET = "UPSTREAM-SECRET-7f3a";

describe("a filter that traps mid-stream fails its VM as in Envoy", () => {
  for (const [scenario, spec, callback] of [
    ["trap-body", { requestBody: ["ok ", "then TRAP", "never seen"] }, "proxy_on_request_body"],
    ["trap-response", { responseBody: ["a", "b"] }, "proxy_on_response_body"],
  ] as [string, RequestSpec, string][]) {
    it(`${scenario}: fail closed, the stream gets 503 (or a reset once the response started), then every stream gets 503`, () => {
      const plugin = createPlugin(reliability, { configuration: scenario });
      assert.equal(plugin.start().ok, true);
      assert.equal(plugin.runHttpRequest().stopped, null, "a request that does not trap passes");
      const r = plugin.runHttpRequest(spec);
      assert.equal(r.stopped, "vm_failed");
      assert.match(plugin.failure ?? "", new RegExp(`^Function: ${callback} failed: Uncaught RuntimeError: unreachable`));
      const critical = r.logs.find((l) => l.level === "critical");
      assert.match(critical?.message ?? "", /abort: trap requested in the (request|response) body at assembly\/index\.ts:\d+:\d+/);
      if (scenario === "trap-body") {
        assert.equal(r.localResponse?.status, 503);
        assert.equal(r.localResponse?.details, "wasm_fail_stream");
        assert.equal(r.upstreamRequest?.body, "ok ", "what went before the trap went upstream; nothing after");
      }
      for (let i = 0; i < 3; i++) {
        const next = plugin.runHttpRequest({ requestHeaders: [["x", String(i)]] });
        assert.equal(next.localResponse?.status, 503);
        assert.equal(next.upstreamRequest, null);
      }
    });

    it(`${scenario}: fail open, the trapping stream and every later one pass untouched`, () => {
      const plugin = createPlugin(reliability, { configuration: scenario, failOpen: true });
      const r = plugin.runHttpRequest({ ...spec, requestHeaders: [["x-keep", "1"]] });
      assert.equal(plugin.failed, true);
      assert.equal(r.localResponse, null);
      const next = plugin.runHttpRequest({ requestHeaders: [["x-keep", "2"]], requestBody: ["TRAP"], responseBody: ["body"] });
      assert.equal(next.localResponse, null);
      assert.equal(headerValue(next.upstreamRequest?.headers, "x-keep"), "2");
      assert.equal(next.upstreamRequest?.body, "TRAP");
      assert.equal(next.downstreamResponse?.body, "body");
    });
  }

  it("another plugin (another VM) keeps serving while one VM has failed", () => {
    const broken = createPlugin(reliability, { configuration: "trap-body" });
    const healthy = createPlugin(examplePlugin("add-header"));
    broken.runHttpRequest({ requestBody: ["TRAP"] });
    assert.equal(broken.failed, true);
    const r = healthy.runHttpRequest();
    assert.equal(headerValue(r.downstreamResponse?.headers, "hello"), "world");
  });
});

describe("every example's bad configuration: on_configure answers false with a clear error, the plugin does not start", () => {
  const cases: [string, string | undefined, [string, RegExp][]][] = [
    ["add-header", undefined, [["{", /^invalid configuration: invalid JSON: expected string at 1$/], ['{"name": ""}', /^invalid configuration: name: expected a header name$/], ['{"name": "a b"}', /^invalid configuration: name: expected a header name$/], ['{"value": 5}', /^invalid configuration: value: expected a string, got 5$/], ['{"value": "a\\nb"}', /^invalid configuration: value: expected no control characters$/], ["[1]", /^invalid configuration: expected a JSON object, got an array$/]]],
    ["body-rewrite", undefined, [["", /^invalid configuration: field: missing/], ['{"value": 1}', /field: missing \(required: a non-empty string\)/], ['{"field": "a"}', /value: missing \(required: any JSON value\)/], ['{"field": "a", "value": 1, "maxBodyBytes": 0}', /maxBodyBytes: expected an integer from 1 to 67108864, got 0/], ['{"field": "a", "value": 1, "maxBodyBytes": 1e99}', /maxBodyBytes: .* got 1e99/]]],
    ["grpc-call", undefined, [["", /^invalid configuration: cluster: missing/], ['{"cluster": "c"}', /service: missing \(required: a non-empty string\)/], ['{"cluster": "c", "service": "s", "method": "m", "timeoutMs": -1}', /timeoutMs: expected an integer from 1 to 4294967295, got -1/]]],
    ["http-auth", undefined, [["", /^invalid configuration: cluster: missing/], ['{"cluster": 5}', /cluster: expected a non-empty string, got 5/], ['{"cluster": "a", "path": "x"}', /path: expected a path starting with '\/'/], ['{"cluster": "a", "timeoutMs": 0.5}', /timeoutMs: expected an integer from 1 to 60000, got 0\.5/]]],
    ["prime-authorizer", undefined, [['{"header": 5}', /^invalid configuration: header: expected a string, got 5$/], ['{"header": ":path"}', /^invalid configuration: header: expected a regular header name$/], ["{", /^invalid configuration: invalid JSON: expected string at 1$/]]],
    ["rate-limit", undefined, [["", /^invalid configuration: requestsPerSecond: missing/], ['{"requestsPerSecond": 0}', /requestsPerSecond: expected a number of at least 0\.0000116, got 0/], ['{"requestsPerSecond": "10"}', /requestsPerSecond: .* got a string/], ['{"requestsPerSecond": 1, "burst": 0.5}', /burst: expected a number of at least 1, got 0\.5/], ['{"requestsPerSecond": 1, "keyHeader": ""}', /keyHeader: expected a non-empty string/]]],
    ["tcp-guard", undefined, [["", /^invalid configuration: pattern: missing/], ['{"pattern": 5}', /pattern: expected a non-empty string, got 5/], [JSON.stringify({ pattern: "x".repeat(1025) }), /1 to 1024 bytes/]]],
    ["token-cache", "token-fetcher", [["", /^invalid configuration: cluster: missing \(required: a non-empty string\)$/], ['{"cluster": "t", "refreshMs": 0}', /^invalid configuration: refreshMs: expected an integer from 1 to 86400000, got 0$/], ['{"cluster": "t", "path": "x"}', /^invalid configuration: path: expected a string starting with '\/'$/]]],
  ];
  for (const [example, rootId, configs] of cases) {
    it(example, () => {
      for (const [configuration, reason] of configs) {
        const plugin = createPlugin(examplePlugin(example), { configuration, rootId });
        const start = plugin.start();
        assert.equal(start.ok, false, configuration);
        assert.equal(start.error, "Failed to configure base Wasm plugin: proxy_on_configure returned false", configuration);
        assert.ok(start.logs.some((l) => l.level === "error" && reason.test(l.message)), `${example} ${configuration}: ${JSON.stringify(start.logs)}`);
        assert.equal(plugin.failed, true);
        assert.throws(() => plugin.runHttpRequest(), /did not start/);
      }
    });
  }
});

describe("the authorizers cannot be bypassed", () => {
  const authorizer = () => {
    const plugin = createPlugin(examplePlugin("prime-authorizer"));
    assert.equal(plugin.start().ok, true);
    return (spec: Parameters<typeof plugin.runHttpRequest>[0]) =>
      plugin.runHttpRequest({ responseHeaders: [["x-upstream", SECRET]], responseBody: [SECRET], ...spec });
  };

  it("duplicate token headers, one prime and one not, in either order and any case, are denied", () => {
    const run = authorizer();
    for (const headers of [
      [["token", "13"], ["token", "15"]],
      [["token", "15"], ["token", "13"]],
      [["token", "13"], ["TOKEN", "15"]],
      [["Token", "15"], ["token", "13"]],
      [["token", "13"], ["token", "13"]],
      [["token", "13"], ["token", ""]],
    ] as [string, string][][]) {
      const r = run({ requestHeaders: headers });
      assert.equal(r.localResponse?.status, 403, JSON.stringify(headers));
      assert.equal(r.upstreamRequest, null);
    }
  });

  it("the header name in any case is the same header (Envoy lower-cases names)", () => {
    const run = authorizer();
    for (const name of ["token", "TOKEN", "Token", "tOKEN"]) assert.equal(run({ requestHeaders: [[name, "13"]] }).localResponse, null, name);
    const custom = createPlugin(examplePlugin("prime-authorizer"), { configuration: '{"header": "X-Token"}' });
    assert.equal(custom.runHttpRequest({ requestHeaders: [["x-token", "13"]] }).localResponse, null);
    assert.equal(custom.runHttpRequest({ requestHeaders: [["token", "13"]] }).localResponse?.status, 403);
  });

  it("a token in a trailer or in the body does not count", () => {
    const run = authorizer();
    assert.equal(run({ requestTrailers: [["token", "13"]] }).localResponse?.status, 403);
    assert.equal(run({ requestBody: ["token: 13"], requestTrailers: [["token", "13"]] }).localResponse?.status, 403);
    assert.equal(run({ requestBody: ['{"token": 13}'] }).localResponse?.status, 403);
  });

  it("tokens that are not plain decimal u64 primes are denied: signs, spaces, hex, overflow, full-width digits, NUL", () => {
    const run = authorizer();
    for (const token of ["+13", "-13", " 13", "13 ", "0x0d", "1e1", "13.0", "１３", "18446744073709551629", "18446744073709551616"]) {
      assert.equal(run({ requestHeaders: [["token", token]] }).localResponse?.status, 403, token);
    }
    for (const bytes of [Uint8Array.of(0x31, 0x33, 0x00), Uint8Array.of(0xc1, 0xb1, 0x33)]) {
      assert.equal(run({ requestHeaders: [["token", bytes]] }).localResponse?.status, 403, Buffer.from(bytes).toString("hex"));
    }
    assert.equal(run({ requestHeaders: [["token", "18446744073709551557"]] }).localResponse, null, "the largest u64 prime passes");
  });

  // AssemblyScript's own String.UTF8.decode is lenient (C0 B1 decodes to "1", stray bytes are dropped):
  // the SDK decodes strictly, so the authorizer and the upstream never read different tokens.
  it("tokens whose bytes are not ASCII digits are denied: overlong UTF-8 digits, stray continuation bytes", () => {
    const run = authorizer();
    for (const bytes of [[0xc0, 0xb1, 0x33], [0xe0, 0x80, 0xb1, 0x33], [0xf0, 0x80, 0x80, 0xb1, 0x33], [0x31, 0xc0, 0xb3], [0x31, 0x33, 0x80], [0x31, 0x33, 0xff]]) {
      const r = run({ requestHeaders: [["token", Uint8Array.from(bytes)]] });
      assert.equal(r.localResponse?.status, 403, Buffer.from(bytes).toString("hex"));
    }
  });

  it("huge numeric tokens (64 KiB of digits) are denied in bounded time", () => {
    const run = authorizer();
    const t = performance.now();
    for (const digit of ["1", "7", "9"]) assert.equal(run({ requestHeaders: [["token", digit.repeat(64 * 1024)]] }).localResponse?.status, 403);
    assert.ok(performance.now() - t < 1000, `${(performance.now() - t).toFixed(0)} ms`);
  });

  it("a local reply never carries upstream data", () => {
    const run = authorizer();
    const r = run({ requestHeaders: [["token", "15"]] });
    assert.equal(r.localResponse?.status, 403);
    assert.equal(r.downstreamResponse?.body, "Access forbidden.");
    assert.ok(!JSON.stringify(r.downstreamResponse).includes(SECRET));
    assert.ok(!r.downstreamResponse!.headers.some(([k]) => k === "x-upstream"));
  });

  it("http-auth: a client's own x-auth-user (any case, duplicated) never reaches the upstream; a denial never carries upstream data", () => {
    const plugin = createPlugin(examplePlugin("http-auth"), { configuration: '{"cluster": "auth"}' });
    const ok = plugin.runHttpRequest({
      requestHeaders: [["X-Auth-User", "admin"], ["x-auth-user", "root"]],
      httpCallResponses: [{ status: 200 }],
    });
    assert.deepEqual(ok.upstreamRequest?.headers.filter(([k]) => k === "x-auth-user"), []);
    const denied = plugin.runHttpRequest({ requestHeaders: [["x-auth-user", "admin"]], httpCallResponses: [{ status: 403, body: "auth says no" }], responseBody: [SECRET] });
    assert.equal(denied.localResponse?.status, 403);
    assert.equal(denied.upstreamRequest, null);
    assert.ok(!JSON.stringify(denied.downstreamResponse).includes(SECRET));
  });
});

describe("limits: bodies a filter buffers past Envoy's buffer limit", () => {
  it("a request body buffered (StopIterationAndBuffer) past 1 MiB gets 413 Payload Too Large; under it passes", () => {
    const plugin = createPlugin(reliability, { configuration: "buffer-request" });
    const big = plugin.runHttpRequest({ requestBody: Array.from({ length: 5 }, () => "x".repeat(256 * 1024)) });
    assert.equal(big.localResponse?.status, 413);
    assert.equal(big.localResponse?.details, "request_payload_too_large");
    assert.equal(big.upstreamRequest?.body, "");
    const small = plugin.runHttpRequest({ requestBody: Array.from({ length: 4 }, () => "x".repeat(256 * 1024)) });
    assert.equal(small.localResponse, null);
    assert.equal(small.upstreamRequest?.bodyBytes.length, 1 << 20);
    assert.equal(plugin.failed, false);
  });

  it("a response held (StopAllIterationAndBuffer) past the limit gets 500 response_payload_too_large", () => {
    const plugin = createPlugin(reliability, { configuration: "hold-response", bufferLimitBytes: 4096 });
    const r = plugin.runHttpRequest({ responseBody: ["x".repeat(3000), SECRET, "x".repeat(3000)] });
    assert.equal(r.localResponse?.status, 500);
    assert.equal(r.localResponse?.details, "response_payload_too_large");
    assert.ok(!JSON.stringify(r.downstreamResponse).includes(SECRET));
  });

  it("body-rewrite: a JSON response it buffers past the limit is reset in Envoy (its headers already went downstream)", () => {
    // body-rewrite answers Continue to the response headers and StopIterationAndBuffer to the body
    // up to maxBodyBytes. With maxBodyBytes above the listener's limit Envoy resets the stream.
    const plugin = createPlugin(examplePlugin("body-rewrite"), { configuration: '{"field": "a", "value": 1, "maxBodyBytes": 4194304}', bufferLimitBytes: 1 << 20 });
    const body = `{"pad": "${"x".repeat(700 * 1024)}", "more": "${"y".repeat(700 * 1024)}"}`;
    const half = body.length >> 1;
    const r = plugin.runHttpRequest({ responseHeaders: [["content-type", "application/json"]], responseBody: [body.slice(0, half), body.slice(half)] });
    assert.equal(r.stopped, "reset");
    assert.equal(r.localResponse?.details, "response_payload_too_large");
  });
});
