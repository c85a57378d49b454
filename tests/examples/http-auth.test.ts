import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type HttpCallAnswer, type Plugin } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("http-auth");

function startedPlugin(configuration = '{"cluster": "auth"}'): Plugin {
  const plugin = createPlugin(wasm, { configuration, clusters: ["auth"] });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin;
}

function request(answer: HttpCallAnswer, headers: [string, string][] = [["authorization", "Bearer abc"]], plugin = startedPlugin()) {
  return plugin.runHttpRequest({ requestHeaders: [[":path", "/data"], ...headers], httpCallResponses: [answer] });
}

describe("http-auth", () => {
  it("sends the configured check with the request's authorization header", () => {
    const result = request({ status: 200 });
    assert.equal(result.httpCalls.length, 1);
    const call = result.httpCalls[0] as { upstream: string; headers: [string, string][]; body: string; timeoutMs: number };
    assert.equal(call.upstream, "auth");
    assert.deepEqual(call.headers, [[":method", "GET"], [":path", "/check"], [":authority", "auth"], ["authorization", "Bearer abc"]]);
    assert.equal(call.body, "");
    assert.equal(call.timeoutMs, 500);
  });

  it("uses the configured path and timeout, and sends no authorization the client did not", () => {
    const plugin = startedPlugin('{"cluster": "auth", "path": "/v2/allow", "timeoutMs": 250}');
    const result = request({ status: 200 }, [], plugin);
    const call = result.httpCalls[0] as { headers: [string, string][]; timeoutMs: number };
    assert.deepEqual(call.headers, [[":method", "GET"], [":path", "/v2/allow"], [":authority", "auth"]]);
    assert.equal(call.timeoutMs, 250);
  });

  it("lets the request continue on 200 with the auth service's user", () => {
    const result = request({ status: 200, headers: [["x-auth-user", "alice"]] });
    assert.equal(result.localResponse, null);
    assert.equal(result.stopped, null);
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-auth-user"), "alice");
    assert.equal(headerValue(result.upstreamRequest?.headers, ":path"), "/data");
  });

  it("drops an x-auth-user header the client sent", () => {
    const spoofed = request({ status: 200 }, [["x-auth-user", "mallory"]]);
    assert.equal(headerValue(spoofed.upstreamRequest?.headers, "x-auth-user"), undefined);
    const replaced = request({ status: 200, headers: [["x-auth-user", "alice"]] }, [["x-auth-user", "mallory"]]);
    assert.deepEqual(replaced.upstreamRequest?.headers.filter(([name]) => name === "x-auth-user"), [["x-auth-user", "alice"]]);
  });

  it("answers 401 and 403 with the same status, and the upstream sees nothing", () => {
    for (const status of [401, 403]) {
      const result = request({ status });
      assert.equal(result.localResponse?.status, status);
      assert.equal(result.upstreamRequest, null);
    }
  });

  it("answers 503 for any other status, a failed call and a timeout", () => {
    for (const answer of [{ status: 500 }, { status: 302 }, { status: 404 }, "fail", "timeout"] as HttpCallAnswer[]) {
      const result = request(answer);
      assert.equal(result.localResponse?.status, 503, JSON.stringify(answer));
      assert.equal(result.upstreamRequest, null);
    }
  });

  it("answers 503 when the cluster is unknown to the host", () => {
    const plugin = createPlugin(wasm, { configuration: '{"cluster": "missing"}', clusters: ["auth"] });
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest();
    assert.equal(result.localResponse?.status, 503);
    assert.equal(result.httpCalls.length, 0);
  });

  it("refuses a request with more than one authorization header, without asking the auth service", () => {
    // Only the first would be checked and both forwarded: a second, unchecked credential would reach the upstream.
    const plugin = startedPlugin();
    const result = plugin.runHttpRequest({
      requestHeaders: [[":path", "/data"], ["authorization", "Bearer good"], ["authorization", "Bearer smuggled"]],
      httpCallResponses: [{ status: 200 }],
    });
    assert.equal(result.httpCalls.length, 0);
    assert.equal(result.localResponse?.status, 400);
    assert.equal(result.upstreamRequest, null);
  });

  it("holds the request while the check is pending", () => {
    const plugin = startedPlugin();
    const result = plugin.runHttpRequest({ requestBody: ["payload"] });
    assert.equal(result.stopped, "paused");
    assert.equal(result.upstreamRequest, null);
    assert.equal(plugin.pendingHttpCalls().length, 1);
  });

  it("refuses configurations without a usable cluster, path or timeout, naming the field and what was expected", () => {
    const cases: [string, string][] = [
      ["", "cluster: missing (required: a non-empty string)"],
      ["{}", "cluster: missing (required: a non-empty string)"],
      ['{"cluster": ""}', "cluster: expected a non-empty string, got an empty string"],
      ['{"cluster": 1}', "cluster: expected a non-empty string, got 1"],
      ['{"cluster": "a", "path": "check"}', "path: expected a path starting with '/'"],
      ['{"cluster": "a", "path": null}', "path: expected a string, got null"],
      ['{"cluster": "a", "timeoutMs": 0}', "timeoutMs: expected an integer from 1 to 60000, got 0"],
      ['{"cluster": "a", "timeoutMs": 1.5}', "timeoutMs: expected an integer from 1 to 60000, got 1.5"],
      ['{"cluster": "a", "timeoutMs": "500"}', "timeoutMs: expected an integer from 1 to 60000, got a string"],
      ['{"cluster": "a", "timeout": 500}', "timeout: unknown field (expected one of: cluster, path, timeoutMs)"],
      ['{"cluster": "a", "cluster": "b"}', "cluster: given more than once"],
      ["[1]", "expected a JSON object, got an array"],
      ["{", "invalid JSON: expected string at 1"],
    ];
    for (const [configuration, problem] of cases) {
      const start = createPlugin(wasm, { configuration }).start();
      assert.equal(start.ok, false, configuration);
      assert.deepEqual(start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message), [`invalid configuration: ${problem}`], configuration);
    }
  });
});
