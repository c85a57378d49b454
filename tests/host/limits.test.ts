// Pins: the buffer limit (Envoy's per_connection_buffer_limit_bytes and the filter manager's
// 413/500 when a buffering filter goes over it), plugin.memoryPages, raw-byte header names and
// values, a trap in a nested call failing the stream, and bounded time for hostile property paths.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { filter, messages } from "./support/wat.js";

/** on_request_body / on_response_body answer `status` until end of stream, then Continue. */
function bodyStatus(direction: "request" | "response", status: number, headersStatus = 0): Uint8Array {
  return filter({
    body: `(func (export "proxy_on_${direction}_headers") (param i32 i32 i32) (result i32) (i32.const ${headersStatus}))
      (func (export "proxy_on_${direction}_body") (param i32 i32) (param $eos i32) (result i32)
        (if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const ${status}))))`,
  });
}

const chunks = (n: number, size: number) => Array.from({ length: n }, () => "x".repeat(size));

describe("buffer limit (bufferLimitBytes, Envoy's per_connection_buffer_limit_bytes)", () => {
  it("a request body buffered with StopIterationAndBuffer past the limit gets 413 request_payload_too_large", () => {
    const plugin = createPlugin(bodyStatus("request", 1), { bufferLimitBytes: 1000 });
    const r = plugin.runHttpRequest({ requestBody: chunks(3, 400), responseBody: ["SECRET"] });
    assert.equal(r.localResponse?.status, 413);
    assert.equal(r.localResponse?.body, "Payload Too Large");
    assert.equal(r.localResponse?.details, "request_payload_too_large");
    // The headers had gone upstream; none of the buffered body did.
    assert.equal(r.upstreamRequest?.body, "");
    assert.equal(r.stopped, "local_response");
    assert.equal(r.downstreamResponse?.body, "Payload Too Large");
  });

  it("at the limit exactly the body passes (Envoy trips when the buffer is above the high watermark)", () => {
    const plugin = createPlugin(bodyStatus("request", 1), { bufferLimitBytes: 1000 });
    const r = plugin.runHttpRequest({ requestBody: ["x".repeat(500), "x".repeat(499), "x"] });
    assert.equal(r.localResponse, null);
    assert.equal(r.upstreamRequest?.body.length, 1000);
  });

  it("the default limit is Envoy's 1 MiB", () => {
    const plugin = createPlugin(bodyStatus("request", 1));
    assert.equal(plugin.runHttpRequest({ requestBody: chunks(4, 256 * 1024) }).localResponse, null);
    assert.equal(plugin.runHttpRequest({ requestBody: [...chunks(4, 256 * 1024), "x", ""] }).localResponse?.status, 413);
  });

  it("StopIterationAndWatermark streams (flow control, no error); so does a filter that never buffers", () => {
    for (const status of [2, 0]) {
      const plugin = createPlugin(bodyStatus("request", status), { bufferLimitBytes: 100 });
      const r = plugin.runHttpRequest({ requestBody: chunks(5, 100) });
      assert.equal(r.localResponse, null, String(status));
      assert.equal(r.upstreamRequest?.body.length, 500);
    }
  });

  it("Continue after buffering moves the chunk into the buffer first: over the limit that is 413 too", () => {
    // Buffer 600, then the filter lets a 600-byte chunk through: Envoy's buffer holds 1,200 > 1,000.
    const plugin = createPlugin(
      filter({
        body: `(func (export "proxy_on_request_body") (param i32) (param $size i32) (param i32) (result i32)
          (if (result i32) (i32.lt_u (local.get $size) (i32.const 700)) (then (i32.const 1)) (else (i32.const 0))))`,
      }),
      { bufferLimitBytes: 1000 },
    );
    assert.equal(plugin.runHttpRequest({ requestBody: ["x".repeat(600), "y".repeat(600)] }).localResponse?.status, 413);
    assert.equal(plugin.runHttpRequest({ requestBody: ["x".repeat(600), "y".repeat(300)] }).localResponse, null);
  });

  it("StopAllIterationAndBuffer from the headers: held data past the limit is 413; ...AndWatermark (what StopIteration becomes) is not", () => {
    const buffer = createPlugin(filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 3))` }), { bufferLimitBytes: 100 });
    const stream = buffer.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], false);
    stream.sendRequestBody("x".repeat(60), false);
    assert.equal(stream.result().localResponse, null);
    stream.sendRequestBody("x".repeat(60), false);
    assert.equal(stream.result().localResponse?.status, 413);
    const watermark = createPlugin(filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))` }), { bufferLimitBytes: 100 });
    const held = watermark.newHttpStream();
    held.sendRequestHeaders([[":path", "/"]], false);
    held.sendRequestBody("x".repeat(500), false);
    assert.equal(held.result().localResponse, null);
    assert.equal(held.result().stopped, "paused");
  });

  it("a response held past the limit (StopAllIterationAndBuffer on its headers) gets 500 response_payload_too_large", () => {
    const plugin = createPlugin(bodyStatus("response", 1, 3), { bufferLimitBytes: 1000 });
    const r = plugin.runHttpRequest({ responseBody: chunks(3, 400) });
    assert.equal(r.localResponse?.status, 500);
    assert.equal(r.localResponse?.details, "response_payload_too_large");
    assert.equal(r.downstreamResponse?.headers.find(([k]) => k === ":status")?.[1], "500");
    assert.equal(r.downstreamResponse?.body, "Internal Server Error");
  });

  it("once the response headers went downstream, a response over the limit resets the stream", () => {
    const plugin = createPlugin(bodyStatus("response", 1, 0), { bufferLimitBytes: 1000 });
    const r = plugin.runHttpRequest({ responseBody: chunks(3, 400) });
    assert.equal(r.stopped, "reset");
    assert.equal(r.localResponse?.details, "response_payload_too_large");
    assert.equal(r.downstreamResponse?.body, "");
  });
});

describe("plugin.memoryPages", () => {
  it("is 0 before the start, the module's pages after, and follows memory.grow", () => {
    const plugin = createPlugin(
      filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (drop (memory.grow (i32.const 3))) (i32.const 0))` }),
    );
    assert.equal(plugin.memoryPages, 0);
    plugin.start();
    assert.equal(plugin.memoryPages, 2);
    plugin.runHttpRequest();
    assert.equal(plugin.memoryPages, 5);
  });
});

describe("header names and values are bytes, as in Envoy", () => {
  const echo = filter({
    imports: ["proxy_get_header_map_value", "proxy_get_header_map_pairs"],
    body: `(data (i32.const 1024) "x-bin")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 5) (i32.const 300) (i32.const 304)))
        (call $log_out) (i32.const 0))`,
  });

  it("a Uint8Array value reaches the plugin and the upstream byte for byte", () => {
    const value = Uint8Array.of(0xff, 0x00, 0xc0, 0xb1, 0x41);
    const r = createPlugin(echo).runHttpRequest({ requestHeaders: [["X-BIN", value], [Uint8Array.of(0x80, 0x41), "v"]] });
    assert.equal(messages(r.logs)[0], "00");
    const bytes = r.upstreamRequest!.headerBytes;
    assert.deepEqual(bytes.find(([k]) => Buffer.from(k).toString() === "x-bin")?.[1], value);
    // Only ASCII letters are lower-cased (absl::AsciiStrToLower): 0x41 becomes 0x61, 0x80 stays.
    assert.ok(bytes.some(([k]) => Buffer.compare(k, Uint8Array.of(0x80, 0x61)) === 0));
    // The text view decodes as UTF-8 with U+FFFD.
    assert.equal(r.upstreamRequest!.headers.find(([k]) => k === "x-bin")?.[1], "\uFFFD\u0000\uFFFD\uFFFDA");
  });

  it("string names are lower-cased in ASCII only: 'Ä-Header' keeps its Ä", () => {
    const r = createPlugin(echo).runHttpRequest({ requestHeaders: [["Ä-Header", "1"]] });
    assert.ok(r.upstreamRequest!.headers.some(([k]) => k === "Ä-header"));
  });
});

describe("a trap in a nested call (malloc inside a hostcall) fails the stream after the callback returns (cpp-host CHECK_FAIL)", () => {
  it("fail closed: 503 for the stream that was running", () => {
    const plugin = createPlugin(
      filter({
        imports: ["proxy_get_header_map_pairs"],
        malloc: `(func (export "malloc") (param i32) (result i32) (unreachable))`,
        body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304))) (i32.const 0))`,
      }),
    );
    const r = plugin.runHttpRequest();
    assert.equal(r.stopped, "vm_failed");
    assert.equal(r.localResponse?.status, 503);
    assert.equal(r.upstreamRequest, null);
    assert.match(plugin.failure ?? "", /^Function: malloc failed/);
  });
});

describe("hostile property paths cost bounded time", () => {
  it("a 60,000-segment path is NotFound quickly", () => {
    const plugin = createPlugin(
      filter({
        imports: ["proxy_get_property"],
        body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_get_property (i32.const 4096) (i32.const 60000) (i32.const 300) (i32.const 304))) (i32.const 0))`,
      }),
      { properties: { "a.b.c": "x" } },
    );
    const t = performance.now();
    const r = plugin.runHttpRequest();
    assert.deepEqual(messages(r.logs), ["01"]);
    assert.ok(performance.now() - t < 500, `${performance.now() - t} ms`);
  });
});
