// Callouts and the lifetime of the context that made them. cpp-host's exports.cc runs http_call,
// grpc_call and grpc_stream on root_context(), so the root holds every request: a stream that ends
// cancels nothing, and Envoy's Context::~Context, when the root goes (wasm.cc startShutdown after
// on_done true, or done() then finishShutdown), cancels its HTTP and gRPC calls and resets its
// gRPC streams: no callback of theirs follows.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs } from "../../host/index.js";
import { bytesData, data, filter, messages } from "./support/wat.js";

const HEADERS = encodePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]);

/** grpc_{call,stream}("authz", "pkg.S", "M", no metadata, ...) */
const grpcTarget = `(i32.const 1100) (i32.const 5) (i32.const 1110) (i32.const 5) (i32.const 1120) (i32.const 1) (i32.const 0) (i32.const 0)`;

/**
 * At configure: http_call (token at 320), grpc_call (324) and grpc_stream (328), timeouts 1000 ms.
 * A request's headers open a gRPC stream from the stream context. Every callback reports itself:
 * 70 http response (then proxy_done's result), 71 gRPC message, 72 gRPC close, 90 on_done (which
 * answers `onDone`), 99 on_delete.
 */
function calloutsAtConfigure(onDone: 0 | 1) {
  return filter({
    imports: ["proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream", "proxy_done"],
    body: `${data(1100, "authz")}${data(1110, "pkg.S")}${data(1120, "M")}${data(1130, "req")}${bytesData(1200, HEADERS)}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (drop (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 1200) (i32.const ${HEADERS.length})
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 320)))
        (drop (call $proxy_grpc_call ${grpcTarget} (i32.const 1130) (i32.const 3) (i32.const 1000) (i32.const 324)))
        (drop (call $proxy_grpc_stream ${grpcTarget} (i32.const 328)))
        (i32.const 1))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $proxy_grpc_stream ${grpcTarget} (i32.const 332)))
        (i32.const 0))
      (func (export "proxy_on_http_call_response") (param i32) (param $t i32) (param i32 i32 i32)
        (call $report (i32.const 70)) (call $report (local.get $t)) (call $report (call $proxy_done)))
      (func (export "proxy_on_grpc_receive") (param i32) (param $t i32) (param i32)
        (call $report (i32.const 71)) (call $report (local.get $t)))
      (func (export "proxy_on_grpc_close") (param i32) (param $t i32) (param $s i32)
        (call $report (i32.const 72)) (call $report (local.get $t)) (call $report (local.get $s)))
      (func (export "proxy_on_done") (param i32) (result i32) (call $report (i32.const 90)) (i32.const ${onDone}))
      (func (export "proxy_on_delete") (param i32) (call $report (i32.const 99)))`,
  });
}

function started(onDone: 0 | 1) {
  const plugin = createPlugin(calloutsAtConfigure(onDone), { now: 0, clusters: ["authz"] });
  assert.equal(plugin.start().ok, true);
  assert.deepEqual(plugin.pendingHttpCalls().map((c) => c.token), [4]);
  assert.deepEqual(plugin.grpcCalls().map((c) => c.token), [5, 6]);
  plugin.logs.length = 0;
  return plugin;
}

describe("callouts of a deleted root (Envoy Context::~Context cancels them)", () => {
  it("cancels the HTTP call, the gRPC call and the gRPC stream of a root deleted at once: nothing pending, no callback, no timeout", () => {
    const plugin = started(1);
    const shutdown = plugin.shutdown();
    assert.equal(shutdown.deleted, true);
    assert.deepEqual(messages(shutdown.logs), ["90", "99"]);
    assert.deepEqual(plugin.pendingHttpCalls(), [], "a dev proxy would otherwise still send it");
    assert.deepEqual(plugin.grpcCalls(), []);
    plugin.advanceTime(5000);
    assert.deepEqual(messages(plugin.logs), ["90", "99"], "the 1000 ms timeouts fire nothing");
    assert.throws(() => plugin.respondToHttpCall(4, { status: 200 }), /cancelled when the root context was deleted/);
    assert.equal(plugin.respondToGrpcCall(5, "late"), false);
    assert.equal(plugin.receiveGrpcMessage(6, "late"), false);
    assert.equal(plugin.closeGrpcStream(6, 0), false);
    assert.deepEqual(messages(plugin.logs), ["90", "99"]);
  });

  it("answers a draining root's callouts (on_done false keeps it alive) and cancels what is left once proxy_done deletes it", () => {
    const plugin = started(0);
    assert.equal(plugin.shutdown().deleted, false);
    assert.equal(plugin.state, "draining");
    assert.equal(plugin.respondToGrpcCall(5, "r"), true, "a draining root still gets its answers");
    assert.equal(plugin.respondToHttpCall(4, { status: 200 }), true);
    assert.deepEqual(messages(plugin.logs), ["90", "71", "05", "70", "04", "00", "99"], "proxy_done from the callback, on_delete after it");
    assert.equal(plugin.state, "deleted");
    assert.deepEqual(plugin.grpcCalls(), [], "the open stream was reset with the root");
    assert.equal(plugin.receiveGrpcMessage(6, "late"), false);
    assert.equal(messages(plugin.logs).length, 7);
  });

  it("keeps a stream context's callouts after the stream ends: they are the root's", () => {
    const plugin = started(1);
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    stream.complete();
    assert.deepEqual(plugin.grpcCalls().map((c) => [c.token, c.contextId]), [[5, 1], [6, 1], [10, 2]]);
    assert.equal(plugin.receiveGrpcMessage(10, "late"), true);
    assert.deepEqual(messages(plugin.logs), ["71", "10"], "delivered on the root");
  });
});
