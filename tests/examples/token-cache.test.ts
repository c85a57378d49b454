import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Plugin } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("token-cache");
let vmIds = 0;

function pair(configuration = '{"cluster": "tokens", "refreshMs": 1000}') {
  const vmId = `token-cache-${++vmIds}`;
  const fetcher = createPlugin(wasm, { rootId: "token-fetcher", vmId, configuration, clusters: ["tokens"] });
  const filter = createPlugin(wasm, { rootId: "token-cache", vmId });
  assert.equal(fetcher.start().ok, true);
  assert.equal(filter.start().ok, true);
  return { fetcher, filter };
}

function answerNextFetch(fetcher: Plugin, answer: Parameters<Plugin["respondToHttpCall"]>[1]) {
  fetcher.advanceTime(fetcher.tickPeriodMs);
  const calls = fetcher.pendingHttpCalls();
  assert.equal(calls.length, 1, "one token fetch per tick");
  assert.deepEqual(calls[0].headers, [[":method", "GET"], [":path", "/token"], [":authority", "tokens"]]);
  fetcher.respondToHttpCall(calls[0].token, answer);
}

describe("token-cache", () => {
  it("answers 503 until the first token arrives", () => {
    const { filter } = pair();
    const result = filter.runHttpRequest();
    assert.equal(result.localResponse?.status, 503);
    assert.equal(result.upstreamRequest, null);
  });

  it("fetches on each tick and lets every VM with the vm_id use the token", () => {
    const { fetcher, filter } = pair();
    assert.equal(fetcher.tickPeriodMs, 1000);
    answerNextFetch(fetcher, { status: 200, body: "tok-1\n" });
    assert.equal(headerValue(filter.runHttpRequest().upstreamRequest?.headers, "authorization"), "Bearer tok-1");
    answerNextFetch(fetcher, { status: 200, body: "tok-2" });
    assert.equal(headerValue(filter.runHttpRequest({ requestHeaders: [["authorization", "client"]] }).upstreamRequest?.headers, "authorization"), "Bearer tok-2");
  });

  it("keeps the previous token when a refresh fails or answers something unusable", () => {
    const { fetcher, filter } = pair();
    answerNextFetch(fetcher, { status: 200, body: "good" });
    answerNextFetch(fetcher, null);
    answerNextFetch(fetcher, { status: 500, body: "oops" });
    answerNextFetch(fetcher, { status: 200, body: "evil\r\nx-injected: 1" });
    answerNextFetch(fetcher, { status: 200, body: "" });
    assert.equal(headerValue(filter.runHttpRequest().upstreamRequest?.headers, "authorization"), "Bearer good");
    assert.equal(fetcher.sharedData("token-cache/token")?.text, "good");
  });

  it("refuses a fetcher configuration without a cluster, with one error naming the field", () => {
    const cases: [string, string][] = [
      ["", "cluster: missing (required: a non-empty string)"],
      ["{}", "cluster: missing (required: a non-empty string)"],
      ['{"cluster": ""}', "cluster: expected a non-empty string, got an empty string"],
      ['{"cluster": "t", "refreshMs": 0}', "refreshMs: expected an integer from 1 to 86400000, got 0"],
      ['{"cluster": "t", "refreshMs": "1s"}', "refreshMs: expected an integer from 1 to 86400000, got a string"],
      ['{"cluster": "t", "path": "x"}', "path: expected a string starting with '/'"],
      ['{"cluster": "t", "pth": "/x"}', "pth: unknown field (expected one of: cluster, path, refreshMs)"],
    ];
    for (const [configuration, problem] of cases) {
      const start = createPlugin(wasm, { rootId: "token-fetcher", configuration }).start();
      assert.equal(start.ok, false, configuration);
      const errors = start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message);
      assert.deepEqual(errors, [`invalid configuration: ${problem}`], configuration);
    }
  });
});
