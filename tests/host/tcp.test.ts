// Network (TCP) filters in Envoy's order (context.cc onNewConnection/onData/onWrite/onEvent/
// onCloseTCP; cpp-host context.cc onDownstreamData etc.).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

const started = (wasm: Uint8Array) => {
  const plugin = createPlugin(wasm);
  assert.equal(plugin.start().ok, true);
  return plugin;
};
const noop = filter({
  body: `(func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (i32.const 0))
    (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (i32.const 0))
    (func (export "proxy_on_downstream_connection_close") (param i32 i32))
    (func (export "proxy_on_upstream_connection_close") (param i32 i32))
    (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
    (func (export "proxy_on_log") (param i32))
    (func (export "proxy_on_delete") (param i32))`,
});

describe("TCP connections", () => {
  it("runs Envoy's order: new connection, data both ways, upstream close (UNKNOWN) on its end, downstream close, then done, log, delete", () => {
    const result = started(noop).runTcpConnection({ downstreamData: ["ab", "cd"], upstreamData: ["xyz"] });
    assert.deepEqual(result.phases, [
      { phase: "new_connection", result: "Continue" },
      { phase: "downstream_data", size: 2, endOfStream: false, result: "Continue" },
      { phase: "downstream_data", size: 2, endOfStream: true, result: "Continue" },
      { phase: "upstream_data", size: 3, endOfStream: true, result: "Continue" },
      { phase: "upstream_connection_close", peer: 0 },
      { phase: "downstream_connection_close", peer: 2 },
      { phase: "done" },
      { phase: "log" },
      { phase: "delete" },
    ]);
    assert.equal(result.upstreamData, "abcd");
    assert.equal(result.upstreamEndOfStream, true);
    assert.equal(result.downstreamData, "xyz");
    assert.deepEqual(result.closed, { downstream: true, upstream: true });
    assert.equal(result.closedBy, "remote");
    assert.equal(result.finished, true);
  });

  it("finishes the context on the downstream close alone; the upstream's end alone does not", () => {
    const plugin = started(noop);
    const first = plugin.newTcpConnection();
    first.closeUpstream();
    assert.equal(first.result().finished, false);
    const second = plugin.newTcpConnection();
    second.closeDownstream("local");
    assert.deepEqual(second.result().phases.slice(1).map((p) => [p.phase, p.peer]), [
      ["downstream_connection_close", 1],
      ["done", undefined],
      ["log", undefined],
      ["delete", undefined],
    ]);
    second.closeUpstream();
    assert.equal(second.result().phases.length, 5, "nothing after the connection closed");
  });

  it("holds data on StopIteration: the next callback sees it all, and Continue passes it on; writes follow Envoy's buffer rules", () => {
    const wasm = filter({
      imports: ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes"],
      body: `${data(1024, "!")}
        (func (export "proxy_on_downstream_data") (param i32) (param $n i32) (param i32) (result i32)
          (call $report (local.get $n))
          (drop (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (local.get $n) (i32.const 300) (i32.const 304)))
          (call $log_out)
          (if (result i32) (i32.lt_u (local.get $n) (i32.const 4))
            (then (i32.const 1))
            (else
              (call $report (call $proxy_set_buffer_bytes (i32.const 2) (local.get $n) (i32.const 0) (i32.const 1024) (i32.const 1)))
              (call $report (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 1) (i32.const 1) (i32.const 1024) (i32.const 1)))
              (i32.const 0))))`,
    });
    const connection = started(wasm).newTcpConnection();
    connection.sendDownstreamData("ab");
    assert.equal(connection.result().upstreamData, "");
    assert.equal(connection.result().heldDownstreamData, 2);
    connection.sendDownstreamData("cd");
    assert.deepEqual(messages(connection.result().logs), ["02", "ab", "04", "abcd", "00", "02"]);
    assert.equal(connection.result().upstreamData, "abcd!");
    assert.deepEqual(connection.result().phases.map((p) => p.result), ["Continue", "StopIteration", "Continue"]);
  });

  it("passes held data on at continue_stream(DOWNSTREAM); continue_stream(UPSTREAM) is UNIMPLEMENTED", () => {
    const wasm = filter({
      imports: ["proxy_continue_stream", "proxy_set_effective_context", "proxy_set_tick_period_milliseconds"],
      body: `
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 1))) (i32.const 1))
        (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (i32.const 1))
        (func (export "proxy_on_tick") (param i32)
          (call $report (call $proxy_set_effective_context (i32.const 2)))
          (call $report (call $proxy_continue_stream (i32.const 3)))
          (call $report (call $proxy_continue_stream (i32.const 2))))`,
    });
    const plugin = started(wasm);
    const connection = plugin.newTcpConnection();
    connection.sendDownstreamData("held", false);
    assert.equal(connection.result().upstreamData, "");
    plugin.tick();
    assert.deepEqual(messages(plugin.logs), ["00", "12", "00"]);
    assert.equal(connection.result().upstreamData, "held");
  });

  it("closes the downstream connection (LOCAL) after the callback on close_stream(DOWNSTREAM) and on close_stream(UPSTREAM)", () => {
    for (const [type, details] of [[2, "wasm_downstream_close"], [3, "wasm_upstream_close"]] as const) {
      const wasm = filter({
        imports: ["proxy_close_stream"],
        body: `(func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
            (call $report (call $proxy_close_stream (i32.const ${type}))) (i32.const 0))
          (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (call $report (i32.const 99)) (i32.const 0))`,
      });
      const result = started(wasm).runTcpConnection({ downstreamData: ["x"], upstreamData: ["never"] });
      assert.deepEqual(result.phases.map((p) => p.phase), ["new_connection", "downstream_data", "downstream_connection_close", "done", "log", "delete"]);
      assert.equal(result.phases[2].peer, 1);
      assert.equal(result.closedBy, "plugin");
      assert.equal(result.closeDetails, details);
      assert.equal(result.upstreamData, "x", "the data the callback let through still went upstream");
      assert.deepEqual(messages(result.logs), ["00"]);
    }
  });

  it("closes the connection when the VM traps (fail closed) and skips its close callbacks", () => {
    const wasm = filter({ body: `(func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (unreachable))` });
    const plugin = started(wasm);
    const result = plugin.runTcpConnection({ downstreamData: ["x"] });
    assert.equal(result.closedBy, "vm_failed");
    assert.equal(result.upstreamData, "");
    assert.deepEqual(result.phases.map((p) => [p.phase, p.result]), [["new_connection", "Continue"], ["downstream_data", "StopIteration"]]);
    assert.equal(plugin.failed, true);
  });

  describe("on_new_connection answering StopIteration holds tcp_proxy back (FilterManagerImpl::onContinueReading)", () => {
    const holding = (dataResult: number, continueOnData = false) =>
      filter({
        imports: ["proxy_continue_stream"],
        body: `(func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 1))
          (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
            ${continueOnData ? "(drop (call $proxy_continue_stream (i32.const 2)))" : ""} (i32.const ${dataResult}))
          (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (i32.const 0))`,
      });

    it("connects no upstream until the filter passes data on; upstream data cannot come before", () => {
      const connection = started(holding(0)).newTcpConnection();
      assert.equal(connection.result().upstreamConnected, false);
      assert.throws(() => connection.sendUpstreamData("early"), /no upstream connection yet: on_new_connection answered StopIteration/);
      connection.sendDownstreamData("hello");
      assert.equal(connection.result().upstreamConnected, true);
      assert.equal(connection.result().upstreamData, "hello");
      connection.sendUpstreamData("hi", true);
      assert.equal(connection.result().downstreamData, "hi");
    });

    it("a whole connection whose filter never lets data through never reaches the upstream", () => {
      const result = started(holding(1)).runTcpConnection({ downstreamData: ["a", "b"], upstreamData: ["never"] });
      assert.equal(result.upstreamConnected, false);
      assert.equal(result.upstreamData, "");
      assert.deepEqual(result.phases.map((p) => p.phase), ["new_connection", "downstream_data", "downstream_data", "downstream_connection_close", "done", "log", "delete"]);
    });

    it("continue_stream(DOWNSTREAM) connects the upstream and passes on what the filter held", () => {
      const result = started(holding(1, true)).runTcpConnection({ downstreamData: ["ab"], upstreamData: ["ok"] });
      assert.equal(result.upstreamConnected, true);
      assert.equal(result.upstreamData, "ab");
      assert.equal(result.downstreamData, "ok");
    });
  });
});
