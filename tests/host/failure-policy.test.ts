// Envoy's PluginConfig.failure_policy (envoy/extensions/wasm/v3/wasm.proto; wasm.cc PluginConfig,
// maybeReloadHandleIfNeeded, createContext) and Istio's failStrategy, pinned with hand-written WAT:
// a filter whose global counts requests and that traps on a request with an "x-boom" header.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type PluginOptions } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

const trapping = () =>
  filter({
    imports: ["proxy_get_header_map_value"],
    body: `${data(100, "x-boom")}
      (global $count (mut i32) (i32.const 0))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304)))
          (then unreachable))
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (call $report (global.get $count))
        (i32.const 0))`,
  });

const boom = { requestHeaders: [["x-boom", "1"]] as [string, string][] };

function afterTrap(options: PluginOptions) {
  const plugin = createPlugin(trapping(), { now: 0, ...options });
  assert.deepEqual(messages(plugin.runHttpRequest().logs), ["01"]);
  const trapped = plugin.runHttpRequest(boom);
  assert.match(plugin.failure ?? "", /proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
  return { plugin, trapped };
}

describe("failure policies", () => {
  it("FAIL_CLOSED (the default, Istio FAIL_CLOSE): every later stream of the failed VM gets a 503", () => {
    for (const options of [{}, { failurePolicy: "FAIL_CLOSED" }, { failurePolicy: "FAIL_CLOSE" }] as PluginOptions[]) {
      const { plugin, trapped } = afterTrap(options);
      assert.equal(trapped.localResponse?.status, 503);
      plugin.advanceTime(60_000);
      const later = plugin.runHttpRequest();
      assert.equal(later.stopped, "vm_failed");
      assert.equal(later.localResponse?.details, "wasm_fail_stream");
    }
  });

  it("FAIL_OPEN (and the legacy failOpen): streams pass untouched once the VM failed", () => {
    for (const options of [{ failurePolicy: "FAIL_OPEN" }, { failOpen: true }] as PluginOptions[]) {
      const { plugin, trapped } = afterTrap(options);
      assert.equal(trapped.localResponse, null);
      const later = plugin.runHttpRequest();
      assert.equal(later.stopped, null);
      assert.deepEqual(messages(later.logs), [], "the failed VM is not called again");
    }
  });

  it("FAIL_RELOAD: a 503 until the backoff since the VM's load has passed, then a new VM with none of the old state", () => {
    const { plugin, trapped } = afterTrap({ failurePolicy: "FAIL_RELOAD" });
    assert.equal(trapped.localResponse?.status, 503);
    // Envoy waits [1000, 1500) ms from the load (default base_interval 1 s); the host the longest, 1499.
    plugin.advanceTime(1498);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503, "within the backoff: still the failed VM");
    plugin.advanceTime(1);
    const reloaded = plugin.runHttpRequest();
    assert.equal(reloaded.stopped, null);
    assert.deepEqual(messages(reloaded.logs), ["01"], "the global counter starts again: a new VM");
    assert.equal(plugin.failed, false);
    assert.equal(plugin.workers[0].reloads, 1);
    assert.match(messages(plugin.logs).join("\n"), /FAIL_RELOAD: worker 0's VM had failed \(.*unreachable\); a new VM replaced it/);
  });

  it("FAIL_RELOAD counts the backoff from the last load or reload attempt, with reloadBackoffMs as the base", () => {
    const { plugin } = afterTrap({ failurePolicy: "FAIL_RELOAD", reloadBackoffMs: 200 });
    plugin.advanceTime(299);
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["01"], "reloaded after 299 ms (200 + 100 - 1)");
    plugin.runHttpRequest(boom);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503, "the new VM was loaded just now");
    plugin.advanceTime(299);
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["01"]);
    assert.equal(plugin.workers[0].reloads, 2);
  });

  it("FAIL_RELOAD recreates only the worker whose VM failed", () => {
    const plugin = createPlugin(trapping(), { now: 0, concurrency: 2, failurePolicy: "FAIL_RELOAD" });
    plugin.runHttpRequest({ worker: 0 });
    plugin.runHttpRequest({ worker: 1 });
    plugin.runHttpRequest({ ...boom, worker: 0 });
    plugin.advanceTime(1500);
    assert.deepEqual(messages(plugin.runHttpRequest({ worker: 1 }).logs), ["02"], "worker 1 kept its VM and state");
    assert.deepEqual(messages(plugin.runHttpRequest({ worker: 0 }).logs), ["01"], "worker 0 got a new VM");
    assert.deepEqual(plugin.workers.map((w) => w.reloads), [1, 0]);
  });

  it("rejects fail_open together with a failure policy, and unknown policies, as Envoy rejects the configuration", () => {
    const both = createPlugin(trapping(), { failOpen: true, failurePolicy: "FAIL_OPEN" }).start();
    assert.equal(both.error, "only one of fail_open or failure_policy can be set");
    const unknown = createPlugin(trapping(), { failurePolicy: "FAIL_SOMETIMES" as "FAIL_OPEN" }).start();
    assert.match(unknown.error ?? "", /unknown failure policy 'FAIL_SOMETIMES'/);
  });
});
