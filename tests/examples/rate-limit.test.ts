import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Plugin, type PluginOptions } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("rate-limit");
let vmIds = 0;

function startedPlugin(configuration: string, options: PluginOptions = {}): Plugin {
  const plugin = createPlugin(wasm, { configuration, vmId: `rate-limit-${++vmIds}`, now: 1_700_000_000_000, ...options });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin;
}

function statusOf(plugin: Plugin, headers: [string, string][] = [], address = "10.0.0.1:5000") {
  const result = plugin.runHttpRequest({ requestHeaders: headers, properties: { "source.address": address } });
  return { status: result.localResponse?.status ?? 200, result };
}

describe("rate-limit", () => {
  it("lets a burst through, then answers 429 with retry-after", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 1, "burst": 3}');
    assert.deepEqual([1, 2, 3, 4].map(() => statusOf(plugin).status), [200, 200, 200, 429]);
    const denied = statusOf(plugin).result;
    assert.equal(denied.localResponse?.body, "Too many requests.");
    assert.equal(headerValue(denied.localResponse?.headers, "retry-after"), "1");
    assert.equal(denied.upstreamRequest, null);
  });

  it("refills at the configured rate", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 2, "burst": 1}');
    assert.equal(statusOf(plugin).status, 200);
    assert.equal(statusOf(plugin).status, 429);
    plugin.advanceTime(400);
    assert.equal(statusOf(plugin).status, 429);
    plugin.advanceTime(150);
    assert.equal(statusOf(plugin).status, 200);
  });

  it("says how long to wait for a slow refill", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 0.1, "burst": 1}');
    statusOf(plugin);
    assert.equal(headerValue(statusOf(plugin).result.localResponse?.headers, "retry-after"), "10");
  });

  it("keeps one bucket per client address, whatever the port", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 1, "burst": 1}');
    assert.equal(statusOf(plugin, [], "10.0.0.1:5000").status, 200);
    assert.equal(statusOf(plugin, [], "10.0.0.1:6000").status, 429);
    assert.equal(statusOf(plugin, [], "10.0.0.2:5000").status, 200);
    assert.equal(statusOf(plugin, [], "[::1]:5000").status, 200);
    assert.equal(statusOf(plugin, [], "[::1]:5001").status, 429);
  });

  it("keys by the configured header, falling back to the address", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 1, "burst": 1, "keyHeader": "x-api-key"}');
    assert.equal(statusOf(plugin, [["x-api-key", "a"]]).status, 200);
    assert.equal(statusOf(plugin, [["x-api-key", "a"]], "10.9.9.9:1").status, 429);
    assert.equal(statusOf(plugin, [["x-api-key", "b"]]).status, 200);
    assert.equal(statusOf(plugin).status, 200);
    assert.equal(statusOf(plugin).status, 429);
  });

  it("shares buckets between VMs with the same vm_id, and only between them", () => {
    const options = { vmId: `rate-limit-shared-${++vmIds}` };
    const first = startedPlugin('{"requestsPerSecond": 1, "burst": 2}', options);
    const second = startedPlugin('{"requestsPerSecond": 1, "burst": 2}', options);
    const other = startedPlugin('{"requestsPerSecond": 1, "burst": 2}');
    assert.deepEqual([statusOf(first).status, statusOf(second).status, statusOf(first).status, statusOf(second).status], [200, 200, 429, 429]);
    assert.equal(statusOf(other).status, 200);
  });

  it("counts every request exactly once across interleaved VMs", () => {
    const options = { vmId: `rate-limit-count-${++vmIds}` };
    const vms = [startedPlugin('{"requestsPerSecond": 0.001, "burst": 50}', options), startedPlugin('{"requestsPerSecond": 0.001, "burst": 50}', options)];
    let allowed = 0;
    for (let i = 0; i < 80; i++) if (statusOf(vms[i % 2]).status === 200) allowed++;
    assert.equal(allowed, 50);
  });

  it("refuses bad configurations, naming the field and what was expected", () => {
    const rate = "requestsPerSecond: expected a number of at least 0.0000116";
    const cases: [string, string][] = [
      ["", "requestsPerSecond: missing (required: a number of at least 0.0000116)"],
      ["{}", "requestsPerSecond: missing (required: a number of at least 0.0000116)"],
      ['{"requestsPerSecond": 0}', `${rate}, got 0`],
      ['{"requestsPerSecond": -1}', `${rate}, got -1`],
      ['{"requestsPerSecond": "5"}', `${rate}, got a string`],
      // Effectively zero: a token would take longer than a day to come back (and retry-after would not fit).
      ['{"requestsPerSecond": 1e-300}', `${rate}, got 1e-300`],
      ['{"requestsPerSecond": 0.00001}', `${rate}, got 0.00001`],
      ['{"requestsPerSecond": 5, "burst": 0.5}', "burst: expected a number of at least 1, got 0.5"],
      ['{"requestsPerSecond": 5, "keyHeader": ""}', "keyHeader: expected a non-empty string, got an empty string"],
      ['{"requestsPerSecond": 5, "maxKeys": 0}', "maxKeys: expected an integer from 1 to 1000000, got 0"],
      ['{"requestsPerSecond": 5, "maxKeys": 1.5}', "maxKeys: expected an integer from 1 to 1000000, got 1.5"],
      ['{"requestsPerSecond": 5, "burts": 10}', "burts: unknown field (expected one of: requestsPerSecond, burst, keyHeader, maxKeys)"],
      ["[1]", "expected a JSON object, got an array"],
    ];
    for (const [configuration, problem] of cases) {
      const start = createPlugin(wasm, { configuration }).start();
      assert.equal(start.ok, false, configuration);
      assert.deepEqual(start.logs.filter((entry) => entry.level === "error").map((entry) => entry.message), [`invalid configuration: ${problem}`], configuration);
    }
  });

  it("gives a slow rate a burst of at least one token, so that it is not zero", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 0.5}');
    assert.deepEqual([statusOf(plugin).status, statusOf(plugin).status], [200, 429]);
  });

  it("accepts one token a day, the slowest rate it takes", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 0.0000116, "burst": 1}');
    statusOf(plugin);
    assert.equal(headerValue(statusOf(plugin).result.localResponse?.headers, "retry-after"), "86207");
  });

  it("keeps at most maxKeys buckets, and its memory flat, whatever the number of clients", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 1, "burst": 1, "keyHeader": "x-api-key", "maxKeys": 1000}');
    const run = (from: number, to: number) => {
      for (let i = from; i < to; i++) plugin.runHttpRequest({ requestHeaders: [["x-api-key", `client-${i}`]], properties: { "source.address": "10.0.0.1:1" } });
    };
    run(0, 2_000);
    const pages = plugin.memoryPages;
    run(2_000, 100_000);
    assert.ok(Object.keys(plugin.sharedDataEntries()).length <= 1000, `${Object.keys(plugin.sharedDataEntries()).length} buckets`);
    assert.equal(plugin.memoryPages, pages);
  });

  it("forgets nothing a client relies on: an active client keeps its count, an idle one comes back to a full bucket", () => {
    const plugin = startedPlugin('{"requestsPerSecond": 1, "burst": 2, "keyHeader": "x-api-key", "maxKeys": 1}');
    // Every key hashes to the one bucket: an active bucket is shared (stricter, never laxer)...
    assert.equal(statusOf(plugin, [["x-api-key", "a"]]).status, 200);
    assert.equal(statusOf(plugin, [["x-api-key", "b"]]).status, 200);
    assert.equal(statusOf(plugin, [["x-api-key", "a"]]).status, 429);
    // ...and once idle long enough to be full again, it is as good as new for anyone.
    plugin.advanceTime(2_000);
    assert.deepEqual([statusOf(plugin, [["x-api-key", "c"]]).status, statusOf(plugin, [["x-api-key", "c"]]).status], [200, 200]);
  });
});
