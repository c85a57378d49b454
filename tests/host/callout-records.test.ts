// What the host keeps of a plugin's callouts: a long-running dev proxy answers one callout per
// request forever, so an answered, failed or timed-out call must leave nothing VM-wide behind,
// and a gRPC stream the plugin sends on for days keeps only its last messages.
// A stream's result keeps its own calls, and they go with the stream.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs, type Plugin } from "../../host/index.js";
import { largestCollection } from "../support/collections.js";
import { bytesData, data, filter } from "./support/wat.js";

const CALL_HEADERS = encodePairs([[":method", "POST"], [":path", "/check"], [":authority", "auth"]]);
const BODY = "x".repeat(512);
const CALLS = 20_000;

/** http_call("authz", headers, 512-byte body, timeout 1000) from `$ctx`'s callback; the token is stored at 320. */
const httpCall = `(drop (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 1200) (i32.const ${CALL_HEADERS.length})
     (i32.const 2000) (i32.const ${BODY.length}) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 320)))`;

/** Calls out from every request's headers (and continues at once), and from every tick on the root. */
const wasm = filter({
  imports: ["proxy_http_call", "proxy_set_tick_period_milliseconds"],
  body: `${data(1100, "authz")}${bytesData(1200, CALL_HEADERS)}${data(2000, BODY)}
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
    (func (export "proxy_on_tick") (param i32) ${httpCall})
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${httpCall} (i32.const 0))
    (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32))`,
});

/** The plugin's one worker VM (the Vm object, with every VM-wide record). */
const vmOf = (plugin: Plugin) => (plugin as unknown as { vms: { vm: object }[] }).vms[0].vm;

describe("callout records stay bounded", () => {
  it(`keeps nothing VM-wide of ${CALLS} answered, failed and timed-out callouts; each stream's result still lists its own`, () => {
    const plugin = createPlugin(wasm, { now: 0, clusters: ["authz"] });
    assert.equal(plugin.start().ok, true);
    const answers = [{ status: 200, body: "ok" }, "fail", "timeout"] as const;
    for (let i = 0; i < CALLS; i++) {
      const r = plugin.runHttpRequest({ httpCallResponses: [answers[i % 3]] });
      if (i % 5000 === 0) {
        assert.deepEqual(r.httpCalls.map((c) => [c.token, c.upstream, c.body.length, c.timeoutMs]), [[4 + 4 * i, "authz", BODY.length, 1000]]);
      }
    }
    // A stream driven by hand: its call is answered through the Plugin API, its result keeps it.
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    const [pending] = plugin.pendingHttpCalls();
    assert.equal(pending.token, 4 + 4 * CALLS);
    assert.equal(plugin.respondToHttpCall(pending.token, { status: 200 }), true);
    assert.deepEqual(stream.result().httpCalls.map((c) => c.token), [pending.token]);
    assert.throws(() => plugin.respondToHttpCall(pending.token, {}), /already answered/);
    assert.throws(() => plugin.respondToHttpCall(pending.token + 4, {}), /no http_call with token/);
    stream.complete();
    // Calls the root makes from its ticks: timed out by the clock, or answered.
    for (let i = 0; i < 100; i++) plugin.advanceTime(10);
    assert.ok(plugin.pendingHttpCalls().length > 90, "the ticks' calls are pending until their 1000 ms timeout");
    plugin.advanceTime(2000);
    for (const call of plugin.pendingHttpCalls()) plugin.respondToHttpCall(call.token, { status: 200 });
    assert.deepEqual(plugin.pendingHttpCalls(), []);

    const largest = largestCollection(vmOf(plugin), 3);
    assert.ok(largest.size < 300, `the VM holds a collection of ${largest.size} entries at vm${largest.path} after ${CALLS} callouts`);
  });
});

/** The last messages grpcCalls() keeps of a stream (GrpcCallInfo.messages). */
const MESSAGES_KEPT = 64;
const SENDS_PER_TICK = 1000;
const TICKS = 20;

/**
 * Opens a gRPC stream at start (token at 324); every tick sends SENDS_PER_TICK messages on it,
 * each the 4-byte little-endian count of messages sent so far.
 */
const streamingFilter = filter({
  imports: ["proxy_grpc_stream", "proxy_grpc_send", "proxy_set_tick_period_milliseconds"],
  body: `${data(1100, "svc")}${data(1110, "pkg.S")}${data(1120, "M")}
    (global $sent (mut i32) (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (drop (call $proxy_grpc_stream (i32.const 1100) (i32.const 3) (i32.const 1110) (i32.const 5) (i32.const 1120) (i32.const 1)
        (i32.const 0) (i32.const 0) (i32.const 324)))
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 10)))
      (i32.const 1))
    (func (export "proxy_on_tick") (param i32) (local $i i32)
      (loop $send
        (global.set $sent (i32.add (global.get $sent) (i32.const 1)))
        (i32.store (i32.const 1300) (global.get $sent))
        (drop (call $proxy_grpc_send (i32.load (i32.const 324)) (i32.const 1300) (i32.const 4) (i32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $send (i32.lt_u (local.get $i) (i32.const ${SENDS_PER_TICK})))))`,
});

describe("gRPC stream records stay bounded", () => {
  it(`keeps the last ${MESSAGES_KEPT} of ${SENDS_PER_TICK * TICKS} messages sent on one stream, and counts them all`, () => {
    const plugin = createPlugin(streamingFilter, { now: 0, clusters: ["svc"] });
    assert.equal(plugin.start().ok, true);
    for (let i = 0; i < TICKS; i++) plugin.advanceTime(10);

    const largest = largestCollection(vmOf(plugin), 4);
    assert.ok(largest.size <= MESSAGES_KEPT, `the VM holds a collection of ${largest.size} entries at vm${largest.path} after ${SENDS_PER_TICK * TICKS} sends`);
    const [stream] = plugin.grpcCalls();
    assert.equal(stream.messagesSent, SENDS_PER_TICK * TICKS);
    const counts = stream.messages.map((m) => new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0, true));
    const last = SENDS_PER_TICK * TICKS;
    assert.deepEqual(counts, Array.from({ length: MESSAGES_KEPT }, (_, i) => last - MESSAGES_KEPT + 1 + i), "the latest, oldest first");
  });
});
