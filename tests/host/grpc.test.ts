// gRPC callouts as Envoy runs them (context.cc grpcCall/grpcStream/grpcSend/grpcClose/grpcCancel,
// onGrpcReceiveWrapper, onGrpcCloseWrapper, onGrpcReceive*MetadataWrapper): all on the root.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs } from "../../host/index.js";
import { bytesData, data, filter, messages } from "./support/wat.js";

const MD = encodePairs([["x-md", "1"]]);

/** Opens a unary call (token at 320) and a stream (token at 324) in on_configure; on_tick runs `tick`. */
function grpcFilter(tick = "") {
  return filter({
    imports: [
      "proxy_grpc_call",
      "proxy_grpc_stream",
      "proxy_grpc_send",
      "proxy_grpc_cancel",
      "proxy_grpc_close",
      "proxy_get_status",
      "proxy_get_header_map_value",
      "proxy_get_buffer_bytes",
      "proxy_set_tick_period_milliseconds",
    ],
    body: `${data(1100, "svc")}${data(1110, "pkg.S")}${data(1120, "M")}${data(1130, "req")}${data(1140, "m1")}${data(1150, "k")}
      ${bytesData(1200, MD)}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (drop (call $proxy_grpc_call (i32.const 1100) (i32.const 3) (i32.const 1110) (i32.const 5) (i32.const 1120) (i32.const 1)
          (i32.const 1200) (i32.const ${MD.length}) (i32.const 1130) (i32.const 3) (i32.const 1000) (i32.const 320)))
        (drop (call $proxy_grpc_stream (i32.const 1100) (i32.const 3) (i32.const 1110) (i32.const 5) (i32.const 1120) (i32.const 1)
          (i32.const 1200) (i32.const ${MD.length}) (i32.const 324)))
        (drop (call $proxy_grpc_send (i32.load (i32.const 324)) (i32.const 1140) (i32.const 2) (i32.const 0)))
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 10)))
        (i32.const 1))
      (func (export "proxy_on_tick") (param i32) ${tick})
      (func (export "proxy_on_grpc_receive_initial_metadata") (param i32) (param $t i32) (param $n i32)
        (call $report (local.get $t)) (call $report (local.get $n))
        (call $report (call $proxy_get_header_map_value (i32.const 4) (i32.const 1150) (i32.const 1) (i32.const 300) (i32.const 304)))
        (call $log_out))
      (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32) (param $t i32) (param $n i32)
        (call $report (local.get $t)) (call $report (local.get $n))
        (call $report (call $proxy_get_header_map_value (i32.const 5) (i32.const 1150) (i32.const 1) (i32.const 300) (i32.const 304)))
        (call $log_out))
      (func (export "proxy_on_grpc_receive") (param i32) (param $t i32) (param $n i32)
        (call $report (local.get $t)) (call $report (local.get $n))
        (call $report (call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (local.get $n) (i32.const 300) (i32.const 304)))
        (call $log_out))
      (func (export "proxy_on_grpc_close") (param i32) (param $t i32) (param $s i32)
        (call $report (local.get $t)) (call $report (local.get $s))
        (drop (call $proxy_get_status (i32.const 340) (i32.const 300) (i32.const 304)))
        (call $report (i32.load (i32.const 340))) (call $log_out))`,
  });
}

const started = (wasm: Uint8Array) => {
  const plugin = createPlugin(wasm, { now: 0 });
  assert.equal(plugin.start().ok, true);
  plugin.logs.length = 0;
  return plugin;
};

describe("gRPC callouts", () => {
  it("records calls and streams with their service, method, metadata and messages", () => {
    const plugin = started(grpcFilter());
    const calls = plugin.grpcCalls().map((c) => ({ ...c, messages: c.messages.map((m) => new TextDecoder().decode(m)) }));
    assert.deepEqual(calls, [
      { worker: 0, token: 5, kind: "call", upstream: "svc", serviceName: "pkg.S", method: "M", initialMetadata: [["x-md", "1"]], messages: ["req"], messagesSent: 1, timeoutMs: 1000, contextId: 1, localClosed: false, remoteClosed: false },
      { worker: 0, token: 6, kind: "stream", upstream: "svc", serviceName: "pkg.S", method: "M", initialMetadata: [["x-md", "1"]], messages: ["m1"], messagesSent: 1, timeoutMs: 0, contextId: 1, localClosed: false, remoteClosed: false },
    ]);
  });

  it("delivers a unary success as on_grpc_receive with GRPC_RECEIVE_BUFFER; the call is then over", () => {
    const plugin = started(grpcFilter());
    assert.equal(plugin.respondToGrpcCall(5, "resp"), true);
    assert.deepEqual(messages(plugin.logs), ["05", "04", "00", "resp"]);
    assert.deepEqual(plugin.grpcCalls().map((c) => c.token), [6]);
    assert.equal(plugin.respondToGrpcCall(5, "again"), false, "dropped");
    assert.throws(() => plugin.respondToGrpcCall(9, "x"), /never opened/);
    assert.throws(() => plugin.receiveGrpcMessage(5, "x"), /not a gRPC stream token/);
  });

  it("delivers a unary failure as on_grpc_close with proxy_get_status giving the status and message", () => {
    const plugin = started(grpcFilter());
    assert.equal(plugin.failGrpcCall(5, 14, "upstream gone"), true);
    assert.deepEqual(messages(plugin.logs), ["05", "14", "14", "upstream gone"]);
    assert.deepEqual(plugin.grpcCalls().map((c) => c.token), [6]);
  });

  it("times a unary call out once the clock passes its timeout_milliseconds: on_grpc_close 14 Unavailable, 'upstream request timeout' (Envoy's router local reply, trailers-only gRPC)", () => {
    const plugin = started(grpcFilter());
    plugin.advanceTime(999);
    assert.deepEqual(messages(plugin.logs), [], "not before its timeout");
    plugin.advanceTime(1);
    assert.deepEqual(messages(plugin.logs), ["05", "14", "14", "upstream request timeout"]);
    assert.deepEqual(plugin.grpcCalls().map((c) => c.token), [6], "the call is over; the stream has no timeout");
    plugin.advanceTime(10_000);
    assert.deepEqual(messages(plugin.logs).length, 4, "once");
  });

  it("does not time out a call answered before its timeout", () => {
    const plugin = started(grpcFilter());
    plugin.respondToGrpcCall(5, "resp");
    plugin.logs.length = 0;
    plugin.advanceTime(5000);
    assert.deepEqual(messages(plugin.logs), []);
  });

  it("delivers a stream's initial metadata (map 4), messages, trailing metadata (map 5) and close", () => {
    const plugin = started(grpcFilter());
    plugin.receiveGrpcInitialMetadata(6, [["k", "init"]]);
    plugin.receiveGrpcMessage(6, "one");
    plugin.receiveGrpcMessage(6, "two!");
    plugin.receiveGrpcTrailingMetadata(6, [["k", "trail"], ["x", "y"]]);
    plugin.closeGrpcStream(6, 0, "");
    assert.deepEqual(messages(plugin.logs), [
      "06", "01", "00", "init",
      "06", "03", "00", "one",
      "06", "04", "00", "two!",
      "06", "02", "00", "trail",
      "06", "00", "00", "",
    ]);
    assert.equal(plugin.receiveGrpcMessage(6, "late"), false, "nothing after the remote close");
    assert.deepEqual(plugin.grpcCalls().map((c) => [c.token, c.remoteClosed]), [[5, false], [6, true]], "kept until the plugin closes it too");
  });

  it("delivers nothing after grpc_cancel, on a call or a stream", () => {
    const plugin = started(grpcFilter(`
      (call $report (call $proxy_grpc_cancel (i32.load (i32.const 320))))
      (call $report (call $proxy_grpc_cancel (i32.load (i32.const 324))))
      (call $report (call $proxy_grpc_cancel (i32.load (i32.const 324))))
      (call $report (call $proxy_grpc_cancel (i32.const 8)))`));
    plugin.tick();
    assert.deepEqual(messages(plugin.logs), ["00", "00", "01", "02"]);
    assert.equal(plugin.respondToGrpcCall(5, "x"), false);
    assert.equal(plugin.receiveGrpcMessage(6, "x"), false);
    assert.equal(plugin.closeGrpcStream(6, 0), false);
    assert.deepEqual(plugin.grpcCalls(), []);
  });

  it("half-closes a stream on grpc_close: the remote side still answers, then the stream is gone", () => {
    const plugin = started(grpcFilter(`
      (call $report (call $proxy_grpc_close (i32.load (i32.const 324))))
      (call $report (call $proxy_grpc_send (i32.load (i32.const 324)) (i32.const 1140) (i32.const 2) (i32.const 1)))
      (call $report (call $proxy_grpc_send (i32.load (i32.const 320)) (i32.const 1140) (i32.const 2) (i32.const 0)))
      (call $report (call $proxy_grpc_send (i32.const 10) (i32.const 1140) (i32.const 2) (i32.const 0)))
      (call $report (call $proxy_grpc_close (i32.load (i32.const 320))))`));
    plugin.tick();
    assert.deepEqual(messages(plugin.logs), ["00", "00", "02", "01", "00"]);
    assert.equal(plugin.respondToGrpcCall(5, "x"), false, "close cancels a unary call");
    assert.equal(plugin.receiveGrpcMessage(6, "still"), true);
    assert.equal(plugin.closeGrpcStream(6, 0), true);
    assert.deepEqual(plugin.grpcCalls(), []);
  });
});
