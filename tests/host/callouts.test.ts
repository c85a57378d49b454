// HTTP callouts as Envoy runs them (cpp-host exports.cc http_call on the root context; Envoy
// context.cc httpCall, onHttpCallSuccess, onHttpCallFailure; AsyncClient timeouts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs, type PluginOptions } from "../../host/index.js";
import { bytesData, data, filter, messages } from "./support/wat.js";

const GOOD = encodePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]);
const NO_AUTHORITY = encodePairs([[":method", "GET"], [":path", "/check"]]);

/** http_call(cluster at 1100, headers at 1200/len, timeout) -> reports status and token. */
const httpCall = (clusterLen: number, headersAt: number, headersLen: number, timeout: number) =>
  `(call $report (call $proxy_http_call (i32.const 1100) (i32.const ${clusterLen}) (i32.const ${headersAt}) (i32.const ${headersLen})
     (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const ${timeout}) (i32.const 320)))
   (call $report (i32.load (i32.const 320)))`;

/**
 * A filter that calls out from on_request_headers and pauses; its on_http_call_response logs
 * "R <token> <nh> <nb> <nt>" as reports, proxy_get_status code and message, :status, the body,
 * then switches to the calling stream and continues it.
 */
function calloutFilter(timeout = 500, cluster = "authz") {
  return filter({
    imports: [
      "proxy_http_call",
      "proxy_get_status",
      "proxy_get_header_map_value",
      "proxy_get_buffer_bytes",
      "proxy_set_effective_context",
      "proxy_continue_stream",
    ],
    body: `${data(1100, cluster)}${bytesData(1200, GOOD)}${data(1180, ":status")}
      (global $caller (mut i32) (i32.const 0))
      (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
        (global.set $caller (local.get $ctx))
        ${httpCall(cluster.length, 1200, GOOD.length, timeout)}
        (i32.const 1))
      (func (export "proxy_on_http_call_response") (param $root i32) (param $token i32) (param $nh i32) (param $nb i32) (param $nt i32)
        (call $report (local.get $root)) (call $report (local.get $token))
        (call $report (local.get $nh)) (call $report (local.get $nb)) (call $report (local.get $nt))
        (drop (call $proxy_get_status (i32.const 340) (i32.const 300) (i32.const 304)))
        (call $report (i32.load (i32.const 340))) (call $log_out)
        (call $report (call $proxy_get_header_map_value (i32.const 6) (i32.const 1180) (i32.const 7) (i32.const 300) (i32.const 304)))
        (call $log_out)
        (call $report (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) (i32.const 300) (i32.const 304)))
        (call $log_out)
        (call $report (call $proxy_set_effective_context (global.get $caller)))
        (call $report (call $proxy_continue_stream (i32.const 0))))`,
  });
}

const started = (wasm: Uint8Array, options: PluginOptions = {}) => {
  // The cluster these filters call, as Envoy would have it configured.
  const plugin = createPlugin(wasm, { now: 0, clusters: ["authz"], ...options });
  assert.equal(plugin.start().ok, true);
  return plugin;
};

describe("HTTP callouts: dispatch", () => {
  it("types tokens in the low 2 bits and refuses an unknown cluster, a negative timeout or a missing pseudo-header", () => {
    const wasm = filter({
      imports: ["proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream"],
      body: `${data(1100, "authz")}${data(1110, "other")}${bytesData(1200, GOOD)}${bytesData(1300, NO_AUTHORITY)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          ${httpCall(5, 1200, GOOD.length, 100)}
          ${httpCall(5, 1200, GOOD.length, 0)}
          (call $report (call $proxy_http_call (i32.const 1110) (i32.const 5) (i32.const 1200) (i32.const ${GOOD.length})
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 320)))
          ${httpCall(5, 1200, GOOD.length, -1)}
          ${httpCall(5, 1300, NO_AUTHORITY.length, 100)}
          (call $report (call $proxy_grpc_call (i32.const 1100) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 324)))
          (call $report (i32.load (i32.const 324)))
          (call $report (call $proxy_grpc_stream (i32.const 1100) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
            (i32.const 0) (i32.const 0) (i32.const 328)))
          (call $report (i32.load (i32.const 328)))
          (call $report (call $proxy_grpc_call (i32.const 1110) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 324)))
          (i32.const 0))`,
    });
    const plugin = started(wasm, { clusters: ["authz"] });
    const result = plugin.runHttpRequest();
    // ok 4, ok 8, unknown cluster 2 (token 0), negative timeout 2, no :authority 2; grpc call 5, stream 6; grpc unknown cluster 4 (PARSE_FAILURE)
    const [reports, refusals] = [result.logs.filter((l) => !l.message.startsWith("host: ")), result.logs.filter((l) => l.message.startsWith("host: "))];
    assert.deepEqual(messages(reports), ["00", "04", "00", "08", "02", "02", "00", "02", "00", "00", "05", "00", "06", "04"]);
    assert.deepEqual(messages(refusals), [
      'host: proxy_http_call to "other" refused with BadArgument: unknown cluster "other" (known: "authz")',
      'host: proxy_http_call to "authz" refused with BadArgument: negative timeout -1 ms (0 means none)',
      'host: proxy_http_call to "authz" refused with BadArgument: missing :authority header',
      'host: proxy_grpc_call to "other" refused with ParseFailure: unknown cluster (known: "authz")',
    ]);
    assert.deepEqual(plugin.pendingHttpCalls().map((c) => [c.token, c.upstream, c.timeoutMs, c.timesOutInMs, c.contextId]), [
      [4, "authz", 100, 100, 2],
      [8, "authz", 0, null, 2],
    ]);
    assert.deepEqual(result.httpCalls.map((c) => c.headers), [GOOD, GOOD].map(() => [[":method", "GET"], [":path", "/check"], [":authority", "auth"]]));
    assert.deepEqual(plugin.grpcCalls().map((c) => [c.token, c.kind, c.upstream]), [[5, "call", "authz"], [6, "stream", "authz"]]);
  });
});

describe("HTTP callouts: answers on the root context", () => {
  it("delivers a response to the root with the counts, maps 6/7 and buffer 4, and the stream goes on", () => {
    const plugin = started(calloutFilter());
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    assert.equal(stream.result().stopped, "paused");
    const [call] = plugin.pendingHttpCalls();
    assert.equal(call.token, 4);
    assert.equal(plugin.respondToHttpCall(4, { status: 201, headers: [["x-a", "1"]], body: "hello", trailers: [["t", "1"]] }), true);
    assert.deepEqual(messages(plugin.logs), ["01", "04", "02", "05", "01", "00", "", "00", "201", "00", "hello", "00", "00"]);
    assert.equal(stream.result().stopped, null);
    assert.ok(stream.result().upstreamRequest);
    assert.deepEqual(plugin.pendingHttpCalls(), []);
    assert.throws(() => plugin.respondToHttpCall(4, {}), /already answered/);
    assert.throws(() => plugin.respondToHttpCall(44, {}), /no http_call with token 44/);
  });

  it("fails a call as a reset: (0,0,0), status 11 \"reset\", no maps or body; the code stays 11 afterwards", () => {
    const plugin = started(calloutFilter());
    plugin.newHttpStream().sendRequestHeaders([[":path", "/"]], true);
    plugin.failHttpCall(4);
    // header map 6 is unavailable (BAD_ARGUMENT), buffer 4 NOT_FOUND (the out-pointers keep "reset")
    assert.deepEqual(messages(plugin.logs), ["01", "04", "00", "00", "00", "11", "reset", "02", "reset", "01", "reset", "00", "00"]);
    const second = plugin.newHttpStream();
    second.sendRequestHeaders([[":path", "/"]], true);
    plugin.logs.length = 0;
    plugin.respondToHttpCall(8, { body: "ok" });
    // Envoy clears only the message after the failure callback; a success does not touch the code.
    assert.deepEqual(messages(plugin.logs).slice(5, 7), ["11", ""]);
  });

  it("times a call out after its timeout as Envoy's router does: a 504 \"upstream request timeout\"", () => {
    const plugin = started(calloutFilter(500));
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    plugin.advanceTime(499);
    assert.equal(plugin.pendingHttpCalls()[0].timesOutInMs, 1);
    assert.deepEqual(plugin.logs, []);
    plugin.advanceTime(1);
    assert.deepEqual(messages(plugin.logs), ["01", "04", "03", "24", "00", "00", "", "00", "504", "00", "upstream request timeout", "00", "00"]);
    assert.equal(stream.result().stopped, null);
    assert.deepEqual(plugin.pendingHttpCalls(), []);
  });

  it("never times out a call made with timeout 0; timeoutHttpCall() forces Envoy's 504", () => {
    const plugin = started(calloutFilter(0));
    plugin.newHttpStream().sendRequestHeaders([[":path", "/"]], true);
    plugin.advanceTime(3_600_000);
    assert.equal(plugin.pendingHttpCalls().length, 1);
    plugin.timeoutHttpCall(4);
    assert.equal(messages(plugin.logs)[8], "504");
  });

  it("still answers on the root after the calling stream is gone; the stream id is then unknown (BAD_ARGUMENT)", () => {
    const plugin = started(calloutFilter());
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    stream.complete();
    assert.equal(plugin.respondToHttpCall(4, { body: "late" }), true);
    const logs = messages(plugin.logs);
    assert.deepEqual(logs.slice(0, 2), ["01", "04"]);
    assert.deepEqual(logs.slice(-2), ["02", "00"], "set_effective_context(2) fails; continue_stream on the root is OK");
    assert.equal(plugin.failed, false);
  });

  it("answers from spec.httpCallResponses in order and lets the paused request continue", () => {
    const plugin = started(calloutFilter());
    const ok = plugin.runHttpRequest({ httpCallResponses: [{ status: 200, body: "yes" }] });
    assert.equal(ok.stopped, null);
    assert.ok(ok.upstreamRequest);
    assert.deepEqual(ok.httpCalls.map((c) => [c.token, c.upstream, c.timeoutMs]), [[4, "authz", 500]]);
    const failed = plugin.runHttpRequest({ httpCallResponses: ["fail"] });
    assert.equal(failed.stopped, null);
    const unanswered = plugin.runHttpRequest();
    assert.equal(unanswered.stopped, "paused");
    assert.equal(unanswered.upstreamRequest, null);
    assert.deepEqual(plugin.pendingHttpCalls().map((c) => c.token), [12]);
  });
});
