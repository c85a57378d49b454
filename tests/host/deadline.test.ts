// A callback that never returns must not hang a test: past the callback deadline the host stops
// it (node:vm's watchdog terminates the running wasm) and fails the VM, naming the callback and
// how long it ran. Envoy has no such deadline: its worker thread would hang.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { filter, messages } from "./support/wat.js";

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
