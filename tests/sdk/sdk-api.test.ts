// The SDK's API, driven through the host by tests/filters/sdk-api: the plugin configuration names the scenario.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type PluginOptions, type RequestSpec } from "../../host/index.js";
import { headerValue, testFilter } from "../support/plugins.js";

const wasm = testFilter("sdk-api");

function run(scenario: string, spec: RequestSpec = {}, options: PluginOptions = {}) {
  const plugin = createPlugin(wasm, { rootId: "scenarios", configuration: scenario, ...options });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin.runHttpRequest(spec);
}

describe("SDK: start-up", () => {
  it("runs top-level code in _initialize and reads the VM configuration", () => {
    const start = createPlugin(wasm, { rootId: "scenarios", vmConfiguration: "abc" }).start();
    assert.equal(start.ok, true);
    // Without the host's one-VM warning (host/workers.test.ts pins it).
    const messages = start.logs.map((entry) => entry.message).filter((message) => !message.startsWith("host: no concurrency given"));
    assert.deepEqual(messages, ["top-level code runs in _initialize", "vm started with 3 bytes of configuration"]);
  });

  it("fails the start when onVmStart or onConfigure returns false", () => {
    const vm = createPlugin(wasm, { rootId: "scenarios", vmConfiguration: "fail" }).start();
    assert.equal(vm.ok, false);
    assert.match(vm.error ?? "", /on_vm_start/);
    const configure = createPlugin(wasm, { rootId: "scenarios", configuration: "refuse" }).start();
    assert.equal(configure.ok, false);
    assert.match(configure.error ?? "", /on_configure/);
  });

  it("picks the root context by root id", () => {
    const plugin = createPlugin(wasm, { rootId: "second" });
    assert.equal(plugin.start().ok, true);
    assert.equal(headerValue(plugin.runHttpRequest().downstreamResponse?.headers, "x-root"), "second");
  });

  it("refuses a root id nobody registered when there are several", () => {
    const start = createPlugin(wasm, { rootId: "third" }).start();
    assert.equal(start.ok, false);
    assert.ok(start.logs.some((entry) => entry.level === "critical" && entry.message.includes("no RootContext registered for root id 'third'")));
  });
});

describe("SDK: headers", () => {
  it("gets, adds, replaces and removes request headers", () => {
    const result = run("headers", {
      requestHeaders: [[":path", "/p"], ["x-multi", "1"], ["x-replace", "old"], ["x-remove", "gone"], ["X-Multi", "2"]],
    });
    const headers = result.upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-path"), "/p");
    assert.equal(headerValue(headers, "x-missing-is-null"), "yes");
    assert.equal(headerValue(headers, "x-multi-values"), "1|2");
    assert.equal(headerValue(headers, "x-replace"), "new");
    assert.equal(headerValue(headers, "x-remove"), undefined);
    assert.equal(headerValue(headers, "x-eos"), "true");
    // Envoy's byteSize(): the sum of name and value lengths, read just before x-byte-size was added
    const expectedBytes = headers
      .filter(([name]) => name !== "x-byte-size")
      .reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
    assert.equal(headerValue(headers, "x-byte-size"), String(expectedBytes));
    const [counted, listed] = headerValue(headers, "x-count")!.split("/");
    assert.equal(counted, listed, "numHeaders matches the pairs the host returns");
  });

  it("reads a header's single value and counts values, whatever the map's size", () => {
    const plugin = createPlugin(wasm, { rootId: "scenarios", configuration: "single" });
    assert.equal(plugin.start().ok, true);
    const single = (requestHeaders: [string, string][]) => {
      const headers = plugin.runHttpRequest({ requestHeaders }).upstreamRequest!.headers;
      return ["x-once-value", "x-twice-value", "x-twice-count", "x-absent-value", "x-absent-count", "x-twice-first", "x-has-once", "x-twice-values", "x-listed"]
        .map((name) => headerValue(headers, name));
    };
    // all() also lists the pseudo-headers the host adds to every request.
    const listed = (count: number) => String(Number(single([])[8]) + count);
    const small: [string, string][] = [["x-twice", "1"], ["x-once", "✓ ok"], ["X-Twice", "2"]];
    assert.deepEqual(single(small), ["✓ ok", "(null)", "2", "(null)", "0", "1", "yes", "1|2", listed(3)]);
    // Past the block the SDK reuses for the host's answers (16 KiB), then small again.
    const big = "b".repeat(20_000);
    assert.deepEqual(single([["x-big", big], ...small]), ["✓ ok", "(null)", "2", "(null)", "0", "1", "yes", "1|2", listed(4)]);
    assert.deepEqual(single([["x-twice", big], ["x-once", big]]), [big, big, "1", "(null)", "0", big, "yes", big, listed(2)]);
    assert.deepEqual(single([["x-once", "a".repeat(3_000)]]), ["a".repeat(3_000), "(null)", "0", "(null)", "0", "(null)", "yes", "", listed(1)]);
    assert.deepEqual(single([["x-twice", ""], ["x-once", ""]]), ["", "", "1", "(null)", "0", "", "yes", "", listed(2)]);
  });

  it("reads a header's single value as a decimal u64, or the fallback", () => {
    const plugin = createPlugin(wasm, { rootId: "scenarios", configuration: "single" });
    assert.equal(plugin.start().ok, true);
    const number = (requestHeaders: [string, string][]) =>
      headerValue(plugin.runHttpRequest({ requestHeaders }).upstreamRequest!.headers, "x-number-read");
    assert.equal(number([["x-number", "7917"]]), "7917");
    assert.equal(number([["x-other", "5"], ["X-NUMBER", "0018446744073709551615"]]), "18446744073709551615");
    assert.equal(number([["x-number", "0"]]), "0");
    for (const refused of ["", "-7", "+7", " 7", "7 ", "0x7", "7.0", "٣", "18446744073709551616", "18446744073709551623", "9".repeat(60_000)]) {
      assert.equal(number([["x-number", refused]]), "1", JSON.stringify(refused.slice(0, 30)));
    }
    assert.equal(number([]), "1", "absent");
    assert.equal(number([["x-number", "7"], ["x-number", "7"]]), "1", "repeated, even with the same value");
    assert.equal(number([["x-big", "b".repeat(20_000)], ["x-number", "13"]]), "13", "in a map past the reused block");
  });

  it("reports end of stream false when a body follows", () => {
    const result = run("headers", { requestBody: ["x"] });
    assert.equal(headerValue(result.upstreamRequest!.headers, "x-eos"), "false");
  });

  it("replaces the whole map", () => {
    const result = run("replace-all", { requestHeaders: [[":path", "/orig"], ["x-drop", "1"]] });
    assert.deepEqual(result.upstreamRequest!.headers, [[":method", "GET"], [":path", "/rewritten"], [":authority", "a"], ["x-only", "1"]]);
  });
});

describe("SDK: bodies", () => {
  it("buffers the request body until end of stream, then replaces it", () => {
    const result = run("body", { requestBody: ["ab", "cd", "ef"] });
    assert.equal(result.upstreamRequest!.body, "ABCDEF(6)");
    const bodyPhases = result.phases.filter((phase) => phase.phase === "request_body");
    assert.deepEqual(bodyPhases.map((phase) => phase.result), ["StopIterationAndBuffer", "StopIterationAndBuffer", "Continue"]);
  });

  it("prepends and appends to the response body", () => {
    const result = run("body", { responseBody: ["payload"] });
    assert.equal(result.downstreamResponse!.body, "<payload>");
  });
});

describe("SDK: stream control", () => {
  it("sends a local response that passes through the response callbacks", () => {
    const result = run("local-response", { requestBody: ["never sent"] });
    assert.equal(result.stopped, "local_response");
    assert.equal(result.upstreamRequest, null);
    assert.equal(result.localResponse?.status, 418);
    assert.equal(result.localResponse?.body, "short and stout");
    assert.equal(result.localResponse?.details, "sdk_teapot");
    assert.equal(headerValue(result.localResponse?.headers, "x-local"), "yes");
    assert.equal(headerValue(result.downstreamResponse?.headers, "x-response-seen"), "local-response");
  });

  it("pauses on StopIteration, which Envoy reads as StopAllIterationAndWatermark", () => {
    const result = run("pause", { requestBody: ["held"] });
    assert.equal(result.stopped, "paused");
    assert.equal(result.upstreamRequest, null);
    assert.equal(result.phases[0].result, "StopAllIterationAndWatermark");
    assert.ok(!result.phases.some((phase) => phase.phase === "request_body"), "no body callback while headers are paused");
  });

  it("resets the stream on closeStream", () => {
    assert.equal(run("close").stopped, "reset");
  });

  it("calls onLog before onDone", () => {
    const result = run("none");
    const messages = result.logs.map((entry) => entry.message.replace(/\d+/, "N"));
    assert.deepEqual(messages, ["on_log for context N", "on_done for context N"]);
  });
});

describe("SDK: logging", () => {
  it("logs only at and above the host's level", () => {
    const result = run("log-levels", {}, { logLevel: "warn" });
    const logged = result.logs.filter((entry) => entry.message.endsWith(" message"));
    assert.deepEqual(logged.map((entry) => entry.level), ["warn", "error", "critical"]);
    assert.equal(headerValue(result.upstreamRequest!.headers, "x-debug-enabled"), "false");
  });

  it("logs everything at trace", () => {
    const result = run("log-levels", {}, { logLevel: "trace" });
    assert.equal(result.logs.filter((entry) => entry.message.endsWith(" message")).length, 6);
    assert.equal(headerValue(result.upstreamRequest!.headers, "x-debug-enabled"), "true");
  });
});

describe("SDK: properties and time", () => {
  it("reads strings, integers and booleans, and writes filter state", () => {
    const result = run("properties", { requestHeaders: [[":path", "/p?q=1"], ["accept", "text/html"]] }, {
      properties: { "source.address": "10.1.2.3:5000", "destination.port": 8080n, "connection.mtls": true },
    });
    const headers = result.upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-root-id"), "scenarios");
    assert.equal(headerValue(headers, "x-source-address"), "10.1.2.3:5000");
    assert.equal(headerValue(headers, "x-destination-port"), "8080");
    assert.equal(headerValue(headers, "x-mtls"), "true");
    assert.equal(headerValue(headers, "x-absent"), "null");
    assert.equal(headerValue(headers, "x-set"), "ok");
    assert.equal(headerValue(headers, "x-read-back"), "kept");
    assert.equal(headerValue(headers, "x-time-set"), "yes");
    assert.equal(headerValue(headers, "x-attribute-path"), "/p?q=1");
    assert.equal(headerValue(headers, "x-attribute-accept"), "text/html");
    assert.equal(headerValue(headers, "x-attribute-port"), "8080");
  });
});

describe("SDK: aborts", () => {
  it("logs the abort message with file and line at critical, fails the VM, and later streams fail closed", () => {
    const plugin = createPlugin(wasm, { rootId: "scenarios", configuration: "abort" });
    assert.equal(plugin.start().ok, true);
    const failed = plugin.runHttpRequest();
    assert.equal(failed.stopped, "vm_failed");
    const critical = failed.logs.find((entry) => entry.level === "critical");
    assert.match(critical?.message ?? "", /abort: deliberate failure at assembly\/index\.ts:\d+:\d+/);
    const next = plugin.runHttpRequest();
    assert.equal(next.stopped, "vm_failed");
    assert.equal(next.localResponse?.status, 503);
    assert.equal(next.upstreamRequest, null);
  });

  it("lets streams through untouched when the plugin fails open", () => {
    const plugin = createPlugin(wasm, { rootId: "scenarios", configuration: "abort", failOpen: true });
    plugin.start();
    plugin.runHttpRequest();
    const next = plugin.runHttpRequest({ requestHeaders: [["x-keep", "1"]] });
    assert.equal(next.localResponse, null);
    assert.equal(headerValue(next.upstreamRequest?.headers, "x-keep"), "1");
    assert.equal(headerValue(next.downstreamResponse?.headers, "x-response-seen"), undefined);
  });
});
