// Envoy runs several VMs per plugin (cpp-host wasm.cc createWasm/canary/getOrCreateThreadLocalPlugin):
// a base VM that only runs the module's start function, a configuration canary that runs
// on_vm_start and on_configure and is dropped, then one VM per worker thread with its own
// globals, root context and ticks; shared data is shared by vm_id. Pinned with hand-written WAT.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs } from "../../host/index.js";
import { bytesData, data, filter, messages, ONE_VM_WARNING } from "./support/wat.js";

/** _initialize "90", on_vm_start "91", on_configure "92" (ticks every 100 ms), a global request counter, on_tick "50". */
const counting = () =>
  filter({
    imports: ["proxy_set_tick_period_milliseconds"],
    body: `(global $count (mut i32) (i32.const 0))
      (func (export "_initialize") (call $report (i32.const 90)))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (call $report (i32.const 91)) (i32.const 1))
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $report (i32.const 92))
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 100)))
        (i32.const 1))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (call $report (global.get $count))
        (i32.const 0))
      (func (export "proxy_on_tick") (param i32) (call $report (i32.const 50)))`,
  });

describe("concurrency: Envoy's base VM, configuration canary and one VM per worker", () => {
  it("starts a base VM (_initialize only), the canary, then each worker, each running start-up again", () => {
    const plugin = createPlugin(counting(), { concurrency: 2 });
    const start = plugin.start();
    assert.equal(start.ok, true);
    assert.deepEqual(messages(start.logs), ["90", "90", "91", "92", "90", "91", "92", "90", "91", "92"]);
    assert.equal(plugin.workers.length, 2);
    assert.deepEqual(plugin.workers.map((w) => messages(w.logs)), [["90", "91", "92"], ["90", "91", "92"]]);
    assert.deepEqual(plugin.workers.map((w) => w.rootContextId), [1, 1], "each worker VM has its own context ids");
  });

  it("keeps globals per VM: requests go round-robin, each worker counts only its own", () => {
    const plugin = createPlugin(counting(), { concurrency: 2 });
    const counts = Array.from({ length: 5 }, () => messages(plugin.runHttpRequest().logs));
    assert.deepEqual(counts, [["01"], ["01"], ["02"], ["02"], ["03"]]);
    assert.deepEqual(messages(plugin.runHttpRequest({ worker: 1 }).logs), ["03"], "worker: K picks the worker");
    assert.throws(() => plugin.runHttpRequest({ worker: 2 }), /no worker 2: the plugin runs workers 0 to 1/);
  });

  it("without concurrency runs one VM, started once, that serves every request", () => {
    const plugin = createPlugin(counting());
    assert.deepEqual(messages(plugin.start().logs), ["90", "91", "92"]);
    assert.deepEqual([1, 2, 3].map(() => messages(plugin.runHttpRequest().logs)), [["01"], ["02"], ["03"]]);
  });

  it("without concurrency says at start, once, that Envoy would run the start-up in a canary and in every worker", () => {
    const plugin = createPlugin(counting());
    const start = plugin.start();
    assert.deepEqual(start.logs[0], {
      level: "warn",
      message:
        "host: no concurrency given, so on_vm_start, on_configure run once, in the one VM that serves every stream; " +
        "Envoy runs them in a configuration canary VM it then drops, then again in each worker's VM (its own globals and root): " +
        "set concurrency (Istio's sidecars: 2) to test that",
    });
    plugin.runHttpRequest();
    plugin.advanceTime(250);
    assert.equal(plugin.logs.filter((l) => l.message.startsWith(ONE_VM_WARNING)).length, 1, "once per plugin");
  });

  it("has nothing to warn about with concurrency, or for a module without a start-up", () => {
    assert.deepEqual(createPlugin(counting(), { concurrency: 1 }).start().logs.filter((l) => l.level === "warn"), []);
    const noStartUp = filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))` });
    assert.deepEqual(createPlugin(noStartUp).start().logs, []);
    assert.deepEqual(createPlugin(counting(), { callerManagesVms: true }).start().logs.filter((l) => l.level === "warn"), [], "a caller that starts Envoy's VMs itself");
  });

  it("ticks every worker (the canary was dropped and never ticks)", () => {
    const plugin = createPlugin(counting(), { concurrency: 3 });
    const startLogs = plugin.start().logs.length;
    plugin.advanceTime(250);
    assert.deepEqual(messages(plugin.logs.slice(startLogs)), ["50", "50", "50", "50", "50", "50"]);
    assert.deepEqual(plugin.workers.map((w) => messages(w.logs).filter((m) => m === "50").length), [2, 2, 2]);
    assert.equal(plugin.tick(), true);
    assert.deepEqual(plugin.workers.map((w) => messages(w.logs).filter((m) => m === "50").length), [3, 3, 3]);
  });

  it("shares shared data across workers by vm_id", () => {
    // Logs what get_shared_data("seen") gives ("01" = NOT_FOUND), then sets it to "w".
    const wasm = filter({
      imports: ["proxy_get_shared_data", "proxy_set_shared_data"],
      body: `${data(100, "seen")}${data(110, "w")}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $r i32)
          (local.set $r (call $proxy_get_shared_data (i32.const 100) (i32.const 4) (i32.const 300) (i32.const 304) (i32.const 308)))
          (if (i32.eqz (local.get $r)) (then (call $log_out)) (else (call $report (local.get $r))))
          (drop (call $proxy_set_shared_data (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 1) (i32.const 0)))
          (i32.const 0))`,
    });
    const plugin = createPlugin(wasm, { concurrency: 2, vmId: "workers-shared-data" });
    assert.deepEqual(messages(plugin.runHttpRequest({ worker: 0 }).logs), ["01"]);
    assert.deepEqual(messages(plugin.runHttpRequest({ worker: 1 }).logs), ["w"], "worker 1 reads what worker 0 wrote");
    assert.equal(plugin.sharedData("seen")?.text, "w");
  });

  it("a configuration the canary rejects fails the plugin before any worker starts", () => {
    const wasm = filter({
      body: `(func (export "_initialize") (call $report (i32.const 90)))
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (call $report (i32.const 92)) (i32.const 0))`,
    });
    const plugin = createPlugin(wasm, { concurrency: 4 });
    const start = plugin.start();
    assert.equal(start.ok, false);
    assert.equal(start.error, "Failed to configure base Wasm plugin: proxy_on_configure returned false");
    assert.deepEqual(messages(start.logs), ["90", "90", "92"], "the base VM and the canary only");
    assert.equal(plugin.workers.length, 0);
    assert.throws(() => plugin.runHttpRequest(), /did not start/);
  });

  it("rejects a concurrency that is not a whole number of workers", () => {
    for (const concurrency of [0, 1.5, -1]) {
      const start = createPlugin(counting(), { concurrency }).start();
      assert.equal(start.ok, false);
      assert.match(start.error ?? "", /bad concurrency/);
    }
  });

  it("answers a callout on the worker that made it; a token two workers share needs the worker", () => {
    const headers = encodePairs([[":method", "GET"], [":path", "/check"], [":authority", "authz"]]);
    const wasm = filter({
      imports: ["proxy_http_call"],
      body: `${data(100, "authz")}${bytesData(500, headers)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_http_call (i32.const 100) (i32.const 5) (i32.const 500) (i32.const ${headers.length})
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 400)))
          (i32.const 0))
        (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) (call $report (i32.const 77)))`,
    });
    const plugin = createPlugin(wasm, { concurrency: 2 });
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["00"]);
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["00"]);
    const calls = plugin.pendingHttpCalls();
    assert.deepEqual(calls.map((c) => [c.worker, c.token]), [[0, calls[0].token], [1, calls[0].token]]);
    assert.throws(() => plugin.respondToHttpCall(calls[0].token, { status: 200 }), /open on workers 0 and 1: pass the worker/);
    assert.equal(plugin.respondToHttpCall(calls[0].token, { status: 200 }, 1), true);
    assert.deepEqual(messages(plugin.workers[1].logs).slice(-1), ["77"]);
    assert.deepEqual(plugin.pendingHttpCalls().map((c) => c.worker), [0]);
  });
});
