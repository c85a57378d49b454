// A callback that never returns must not hang a test: past the callback deadline the host stops
// it (node:vm's watchdog terminates the running wasm) and fails the VM, naming the callback and
// how long it ran. Envoy has no such deadline: its worker thread would hang.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs } from "../../host/index.js";
import { bytesData, data, filter, messages } from "./support/wat.js";

const spinning = (where: string) =>
  filter({
    body: `(func $spin (loop $l (call $report (i32.const 7)) (br $l)))
      (func (export "proxy_on_configure") (param i32 i32) (result i32) ${where === "configure" ? "(call $spin)" : ""} (i32.const 1))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        ${where === "headers" ? "(call $spin)" : ""}
        (call $report (i32.const 1))
        (i32.const 0))`,
  });

describe("callback deadline", () => {
  it("stops a callback that loops forever, fails the VM naming it, and the stream fails closed", () => {
    const plugin = createPlugin(spinning("headers"), { callbackDeadlineMs: 150, logLevel: "error" });
    const started = Date.now();
    const result = plugin.runHttpRequest();
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5_000, `returned after ${elapsed} ms`);
    assert.equal(result.stopped, "vm_failed");
    assert.equal(result.localResponse?.status, 503);
    assert.match(plugin.failure ?? "", /^Function: proxy_on_request_headers failed: it ran for \d+ ms, past the callback deadline of 150 ms, and was stopped$/);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503, "the VM stays failed");
  });

  it("fails the start when on_configure never returns", () => {
    const start = createPlugin(spinning("configure"), { callbackDeadlineMs: 100, logLevel: "error" }).start();
    assert.equal(start.ok, false);
    assert.match(start.error ?? "", /proxy_on_configure failed: it ran for \d+ ms, past the callback deadline of 100 ms/);
  });

  it("with FAIL_RELOAD a new VM serves once the backoff has passed", () => {
    const wasm = filter({
      imports: ["proxy_get_header_map_value"],
      body: `(data (i32.const 100) "x-spin")
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304)))
            (then (loop $l (br $l))))
          (call $report (i32.const 1))
          (i32.const 0))`,
    });
    const plugin = createPlugin(wasm, { callbackDeadlineMs: 100, failurePolicy: "FAIL_RELOAD", now: 0 });
    assert.equal(plugin.runHttpRequest({ requestHeaders: [["x-spin", "1"]] }).stopped, "vm_failed");
    plugin.advanceTime(1500);
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["01"]);
  });

  it("leaves callbacks that return in time alone", () => {
    const plugin = createPlugin(spinning("none"), { callbackDeadlineMs: 1000 });
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["01"]);
    assert.equal(plugin.failed, false);
  });
});

/** on_request_headers reports 1; `where` ("response_headers", "log", "http_call_response") loops forever. */
const spinningLater = (where: string) =>
  filter({
    imports: ["proxy_http_call"],
    body: `${data(1100, "authz")}${bytesData(1200, encodePairs([[":method", "GET"], [":path", "/"], [":authority", "authz"]]))}
      (func $spin (loop $l (br $l)))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (call $report (i32.const 1))
        ${
          where === "http_call_response"
            ? `(drop (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 1200) (i32.const ${encodePairs([[":method", "GET"], [":path", "/"], [":authority", "authz"]]).length})
                 (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 320))) (i32.const 1)`
            : "(i32.const 0)"
        })
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) ${where === "response_headers" ? "(call $spin)" : ""} (i32.const 0))
      (func (export "proxy_on_log") (param i32) ${where === "log" ? "(call $spin)" : ""} (call $report (i32.const 2)))
      (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) (call $spin))`,
  });

describe("callback deadline: one watchdog for a whole request", () => {
  const stoppedMessage = (name: string, deadlineMs: number) =>
    new RegExp(`^Function: ${name} failed: it ran for \\d+ ms, past the callback deadline of ${deadlineMs} ms, and was stopped$`);

  it("stops a later callback of the request, names it, and the request ends as after a trap", () => {
    const plugin = createPlugin(spinningLater("response_headers"), { callbackDeadlineMs: 150, clusters: ["authz"] });
    const result = plugin.runHttpRequest();
    assert.match(plugin.failure ?? "", stoppedMessage("proxy_on_response_headers", 150));
    assert.equal(result.stopped, "vm_failed");
    assert.ok(result.upstreamRequest, "the request had reached the upstream");
    assert.equal(result.localResponse?.status, 503);
    assert.deepEqual(result.phases, [
      { phase: "request_headers", endOfStream: true, result: "Continue" },
      { phase: "response_headers", endOfStream: true, result: "StopAllIterationAndWatermark" },
    ]);
    assert.deepEqual(messages(result.logs), ["01", plugin.failure], "the failure is in the request's logs");
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503, "the VM stays failed");
  });

  it("stops on_log at the end of the stream, names it, and the stream still ends", () => {
    const plugin = createPlugin(spinningLater("log"), { callbackDeadlineMs: 150, clusters: ["authz"], failurePolicy: "FAIL_RELOAD", now: 0 });
    const result = plugin.runHttpRequest();
    assert.match(plugin.failure ?? "", stoppedMessage("proxy_on_log", 150));
    assert.equal(result.downstreamResponse?.headers[0][1], "200", "the response had gone out");
    assert.deepEqual(result.phases.map((p) => p.phase), ["request_headers", "response_headers", "log"]);
    plugin.advanceTime(1500);
    assert.deepEqual(messages(plugin.runHttpRequest({ responseHeaders: [[":status", "204"]] }).logs).slice(0, 1), ["01"], "a new VM serves");
  });

  it("stops on_http_call_response answered from the spec; the paused request stays paused, as after a trap there", () => {
    const plugin = createPlugin(spinningLater("http_call_response"), { callbackDeadlineMs: 150, clusters: ["authz"] });
    const result = plugin.runHttpRequest({ httpCallResponses: [{ headers: [[":status", "200"]] }] });
    assert.match(plugin.failure ?? "", stoppedMessage("proxy_on_http_call_response", 150));
    assert.equal(result.stopped, "paused");
    assert.equal(result.upstreamRequest, null);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503, "later requests: the VM failed");
  });

  it("with fail open, resets the stream whose callback was stopped; later streams pass untouched", () => {
    const plugin = createPlugin(spinning("headers"), { callbackDeadlineMs: 150, failurePolicy: "FAIL_OPEN", logLevel: "error" });
    const stopped = plugin.runHttpRequest();
    assert.match(plugin.failure ?? "", stoppedMessage("proxy_on_request_headers", 150));
    assert.equal(stopped.stopped, "reset");
    assert.equal(stopped.upstreamRequest, null);
    assert.deepEqual(stopped.phases, [{ phase: "request_headers", endOfStream: true, result: "Continue" }]);
    const next = plugin.runHttpRequest();
    assert.equal(next.stopped, null);
    assert.ok(next.upstreamRequest && next.downstreamResponse);
  });

  it("fails only the VM whose callback ran too long: another plugin's on_queue_ready, run after this request", () => {
    const vmId = `deadline-${process.pid}`;
    const consumer = createPlugin(
      filter({
        imports: ["proxy_register_shared_queue"],
        body: `${data(1024, "q")}
          (func (export "proxy_on_configure") (param i32 i32) (result i32)
            (drop (call $proxy_register_shared_queue (i32.const 1024) (i32.const 1) (i32.const 320))) (i32.const 1))
          (func (export "proxy_on_queue_ready") (param i32 i32) (loop $l (br $l)))`,
      }),
      { vmId, callbackDeadlineMs: 150 },
    );
    assert.equal(consumer.start().ok, true);
    const producer = createPlugin(
      filter({
        imports: ["proxy_resolve_shared_queue", "proxy_enqueue_shared_queue"],
        body: `${data(1024, "q")}
          (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
            (drop (call $proxy_resolve_shared_queue (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const 320)))
            (call $report (call $proxy_enqueue_shared_queue (i32.load (i32.const 320)) (i32.const 1024) (i32.const 1)))
            (i32.const 0))
          (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (call $report (i32.const 9)) (i32.const 0))`,
      }),
      { vmId, callbackDeadlineMs: 150 },
    );
    const result = producer.runHttpRequest();
    assert.match(consumer.failure ?? "", stoppedMessage("proxy_on_queue_ready", 150));
    assert.equal(producer.failed, false);
    assert.equal(result.stopped, null);
    assert.deepEqual(messages(result.logs), ["00", "09"], "the request went on after the stop");
    assert.deepEqual(messages(producer.runHttpRequest().logs), ["00", "09"]);
  });
});

describe("callback deadline default", () => {
  it("is 10 s under node's test runner, none elsewhere, and PROXY_WASM_AS_CALLBACK_DEADLINE_MS overrides it", async () => {
    const { defaultCallbackDeadlineMs } = await import("../../host/deadline.js");
    const saved = { deadline: process.env.PROXY_WASM_AS_CALLBACK_DEADLINE_MS, context: process.env.NODE_TEST_CONTEXT };
    try {
      delete process.env.PROXY_WASM_AS_CALLBACK_DEADLINE_MS;
      process.env.NODE_TEST_CONTEXT = "child-v8";
      assert.equal(defaultCallbackDeadlineMs(), 10_000);
      delete process.env.NODE_TEST_CONTEXT;
      assert.equal(defaultCallbackDeadlineMs(), 0);
      process.env.PROXY_WASM_AS_CALLBACK_DEADLINE_MS = "120";
      const plugin = createPlugin(spinning("headers"), { logLevel: "error" });
      assert.equal(plugin.runHttpRequest().stopped, "vm_failed");
      assert.match(plugin.failure ?? "", /past the callback deadline of 120 ms/);
    } finally {
      for (const [key, value] of [["PROXY_WASM_AS_CALLBACK_DEADLINE_MS", saved.deadline], ["NODE_TEST_CONTEXT", saved.context]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
