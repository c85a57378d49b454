// Start-up as Envoy runs it: _initialize, then on_context_create(R,0) -> on_vm_start(R, vm
// config size) -> on_configure(R, plugin config size).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

describe("plugin start-up", () => {
  it("calls the root callbacks in Envoy's order with the root id and the sizes", () => {
    const wasm = filter({
      body: `
        (func (export "proxy_on_context_create") (param $c i32) (param $p i32) (call $report (local.get $c)) (call $report (local.get $p)))
        (func (export "proxy_on_vm_start") (param $r i32) (param $n i32) (result i32) (call $report (local.get $r)) (call $report (local.get $n)) (i32.const 1))
        (func (export "proxy_on_configure") (param $r i32) (param $n i32) (result i32) (call $report (local.get $r)) (call $report (local.get $n)) (i32.const 1))`,
    });
    const start = createPlugin(wasm, { vmConfiguration: "abc", configuration: "hello" }).start();
    assert.equal(start.ok, true);
    assert.deepEqual(messages(start.logs), ["01", "00", "01", "03", "01", "05"]);
  });

  it("fails the start when on_configure returns false", () => {
    const wasm = filter({ body: `(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))` });
    const plugin = createPlugin(wasm);
    const start = plugin.start();
    assert.equal(start.ok, false);
    assert.match(start.error ?? "", /on_configure returned false/);
    assert.equal(plugin.failed, true);
    assert.throws(() => plugin.runHttpRequest(), /did not start/);
  });

  it("fails the start when on_vm_start returns false", () => {
    const wasm = filter({ body: `(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0))` });
    assert.match(createPlugin(wasm).start().error ?? "", /on_vm_start returned false/);
  });

  it("traps a restricted hostcall in _initialize but allows proxy_log", () => {
    const wasm = filter({
      imports: ["proxy_set_tick_period_milliseconds"],
      body: `${data(1024, "init")}
        (func (export "_initialize")
          (call $log_mem (i32.const 1024) (i32.const 4))
          (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))))`,
    });
    const start = createPlugin(wasm).start();
    assert.equal(start.ok, false);
    assert.equal(start.error, "Function: _initialize failed: restricted_callback");
    assert.equal(start.logs[0].message, "init");
  });

  it("runs main after _initialize", () => {
    const wasm = filter({
      body: `(func (export "_initialize") (call $report (i32.const 1)))
             (func (export "main") (param i32 i32) (result i32) (call $report (i32.const 2)) (i32.const 0))`,
    });
    assert.deepEqual(messages(createPlugin(wasm).start().logs), ["01", "02"]);
  });

  it("serves PLUGIN_CONFIGURATION in on_configure but not in on_vm_start", () => {
    const wasm = filter({
      imports: ["proxy_get_buffer_bytes"],
      body: `
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
          (call $report (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) (i32.const 300) (i32.const 304)))
          (i32.const 1))
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (call $report (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) (i32.const 300) (i32.const 304)))
          (call $log_out)
          (i32.const 1))`,
    });
    const start = createPlugin(wasm, { configuration: "cfg" }).start();
    assert.deepEqual(messages(start.logs), ["01", "00", "cfg"]);
  });

  it("answers plugin_root_id, plugin_name and plugin_vm_id during on_configure", () => {
    const wasm = filter({
      imports: ["proxy_get_property"],
      body: `${data(1024, "plugin_root_id")}${data(1040, "plugin_name")}${data(1056, "plugin_vm_id")}
        (func $prop (param $p i32) (param $n i32)
          (call $report (call $proxy_get_property (local.get $p) (local.get $n) (i32.const 300) (i32.const 304)))
          (call $log_out))
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (call $prop (i32.const 1024) (i32.const 14))
          (call $prop (i32.const 1040) (i32.const 11))
          (call $prop (i32.const 1056) (i32.const 12))
          (i32.const 1))`,
    });
    const start = createPlugin(wasm, { rootId: "r1", name: "n1", vmId: "v1" }).start();
    assert.deepEqual(messages(start.logs), ["00", "r1", "00", "n1", "00", "v1"]);
  });
});
