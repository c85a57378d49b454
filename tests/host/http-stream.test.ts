// One HTTP stream through a filter, checked against Envoy's filter-manager behaviour.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type PluginOptions } from "../../host/index.js";
import { data, filter, messages, withoutOneVmWarning } from "./support/wat.js";

const started = (wasm: Uint8Array, options: PluginOptions = {}) => {
  const plugin = createPlugin(wasm, options);
  assert.equal(plugin.start().ok, true);
  return plugin;
};
const onRequestHeaders = (body: string, result = "(i32.const 0)") =>
  `(func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32) ${body} ${result})`;

describe("HTTP stream: order and results", () => {
  it("calls the callbacks in Envoy's order, on_log before on_done before on_delete", () => {
    const cb = (name: string, params: string, result: boolean) =>
      `${data(0, "")}(func (export "proxy_on_${name}") ${params} ${result ? "(result i32)" : ""} ${result ? "(i32.const 0)" : ""})`;
    const wasm = filter({
      body: [
        cb("request_headers", "(param i32 i32 i32)", true),
        cb("request_body", "(param i32 i32 i32)", true),
        cb("request_trailers", "(param i32 i32)", true),
        cb("response_headers", "(param i32 i32 i32)", true),
        cb("response_body", "(param i32 i32 i32)", true),
        cb("response_trailers", "(param i32 i32)", true),
        cb("log", "(param i32)", false),
        cb("done", "(param i32)", true),
        cb("delete", "(param i32)", false),
      ].join("\n"),
    });
    const result = started(wasm).runHttpRequest({
      requestBody: ["a"],
      requestTrailers: [["t", "1"]],
      responseBody: ["b"],
      responseTrailers: [["u", "2"]],
    });
    assert.deepEqual(
      result.phases.map((p) => p.phase),
      ["request_headers", "request_body", "request_trailers", "response_headers", "response_body", "response_trailers", "log", "done", "delete"],
    );
    assert.equal(result.phases[0].endOfStream, false);
    assert.equal(result.stopped, null);
    assert.deepEqual(result.upstreamRequest?.trailers, [["t", "1"]]);
    assert.equal(result.downstreamResponse?.body, "b");
  });

  it("creates the stream context with the root as parent, using the shared id counter", () => {
    const wasm = filter({
      body: `(func (export "proxy_on_context_create") (param $c i32) (param $p i32) (call $report (local.get $c)) (call $report (local.get $p)))`,
    });
    const plugin = createPlugin(wasm);
    plugin.start();
    assert.deepEqual(messages(plugin.runHttpRequest().logs), ["02", "01"]);
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], true);
    assert.deepEqual(messages(stream.result().logs), ["03", "01"]);
  });

  it("normalises return values like cpp-host", () => {
    const wasm = filter({
      body: `${onRequestHeaders("", "(i32.const 7)")}`,
    });
    assert.equal(started(wasm).runHttpRequest().phases[0].result, "StopAllIterationAndWatermark");
    const pause = filter({ body: onRequestHeaders("", "(i32.const 1)") });
    assert.equal(started(pause).runHttpRequest().phases[0].result, "StopAllIterationAndWatermark");
    const buffer = filter({ body: onRequestHeaders("", "(i32.const 3)") });
    assert.equal(started(buffer).runHttpRequest().phases[0].result, "StopAllIterationAndBuffer");
    const body = filter({
      body: `(func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 9))
             (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) (i32.const 5))`,
    });
    const phases = started(body).runHttpRequest({ requestBody: ["x"], requestTrailers: [] }).phases;
    assert.equal(phases.find((p) => p.phase === "request_body")?.result, "StopIterationNoBuffer");
    assert.equal(phases.find((p) => p.phase === "request_trailers")?.result, "StopIteration");
  });
});

describe("HTTP stream: header maps", () => {
  const pairsWasm = filter({
    imports: ["proxy_get_header_map_pairs", "proxy_get_header_map_size"],
    body: onRequestHeaders(`
      (call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304)))
      (call $log_out)
      (call $report (call $proxy_get_header_map_size (i32.const 0) (i32.const 308)))
      (call $report (i32.load (i32.const 308)))`),
  });

  it("serializes {a:1, b:22} exactly as cpp-host, and get_header_map_size is the byte size", () => {
    const stream = started(pairsWasm).newHttpStream();
    stream.sendRequestHeaders([["a", "1"], ["b", "22"]], true);
    const expected = Buffer.from("02000000" + "01000000" + "01000000" + "01000000" + "02000000" + "6100" + "3100" + "6200" + "323200", "hex");
    assert.deepEqual(messages(stream.result().logs), ["00", expected.toString("utf8"), "00", "05"]);
  });

  it("parses pairs strictly: a missing NUL terminator empties the map", () => {
    const good = "01000000 01000000 01000000 6100 3100".replace(/ /g, "");
    const broken = good.slice(0, -2); // drop the value's NUL
    const make = (hex: string) =>
      filter({
        imports: ["proxy_set_header_map_pairs"],
        body: `(data (i32.const 1024) "${hex.replace(/(..)/g, "\\$1")}")
          ${onRequestHeaders(`(call $report (call $proxy_set_header_map_pairs (i32.const 0) (i32.const 1024) (i32.const ${hex.length / 2})))`)}`,
      });
    assert.deepEqual(started(make(good)).runHttpRequest().upstreamRequest?.headers, [["a", "1"]]);
    const result = started(make(broken)).runHttpRequest();
    assert.deepEqual(result.upstreamRequest?.headers, []);
    assert.deepEqual(messages(result.logs), ["00"]);
  });

  it("answers NOT_FOUND for an absent header and the first value for a repeated one", () => {
    const wasm = filter({
      imports: ["proxy_get_header_map_value"],
      body: `${data(1024, "x-absent")}${data(1040, "x-rep")}
        ${onRequestHeaders(`
          (call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 8) (i32.const 300) (i32.const 304)))
          (call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1040) (i32.const 5) (i32.const 300) (i32.const 304)))
          (call $log_out)`)}`,
    });
    const result = started(wasm).runHttpRequest({ requestHeaders: [["x-rep", "1"], ["x-rep", "2"]] });
    assert.deepEqual(messages(result.logs), ["01", "00", "1"]);
  });

  it("adds, replaces (adding when absent) and removes (OK when absent)", () => {
    const wasm = filter({
      imports: ["proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value"],
      body: `${data(1024, "x-a")}${data(1030, "x-b")}${data(1036, "x-c")}${data(1042, "v")}
        ${onRequestHeaders(`
          (call $report (call $proxy_add_header_map_value (i32.const 0) (i32.const 1024) (i32.const 3) (i32.const 1042) (i32.const 1)))
          (call $report (call $proxy_replace_header_map_value (i32.const 0) (i32.const 1030) (i32.const 3) (i32.const 1042) (i32.const 1)))
          (call $report (call $proxy_remove_header_map_value (i32.const 0) (i32.const 1036) (i32.const 3)))`)}`,
    });
    const result = started(wasm).runHttpRequest({ requestHeaders: [["x-b", "old"]] });
    assert.deepEqual(messages(result.logs), ["00", "00", "00"]);
    const headers = result.upstreamRequest!.headers.filter(([k]) => k.startsWith("x-"));
    assert.deepEqual(headers, [["x-a", "v"], ["x-b", "v"]]);
  });

  it("makes request headers unavailable once the request moved on (BAD_ARGUMENT), readable again in on_log", () => {
    const get = `(call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 5) (i32.const 300) (i32.const 304)))`;
    const wasm = filter({
      imports: ["proxy_get_header_map_value"],
      body: `${data(1024, ":path")}
        (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) ${get} (i32.const 0))
        (func (export "proxy_on_log") (param i32) ${get} (call $log_out))`,
    });
    const result = started(wasm).runHttpRequest({ requestHeaders: [[":path", "/p"]] });
    assert.deepEqual(messages(result.logs), ["02", "00", "/p"]);
  });

  it("lets the last body callback add trailers when the stream has none", () => {
    const wasm = filter({
      imports: ["proxy_add_header_map_value"],
      body: `${data(1024, "x-t")}${data(1030, "1")}
        (func (export "proxy_on_request_body") (param i32 i32) (param $eos i32) (result i32)
          (if (local.get $eos) (then (call $report (call $proxy_add_header_map_value (i32.const 1) (i32.const 1024) (i32.const 3) (i32.const 1030) (i32.const 1)))))
          (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({ requestBody: ["a", "b"] });
    assert.deepEqual(messages(result.logs), ["00"]);
    assert.deepEqual(result.upstreamRequest?.trailers, [["x-t", "1"]]);
  });
});

describe("HTTP stream: bodies", () => {
  it("clamps get_buffer_bytes to the buffer and writes ptr=0,size=0 for nothing", () => {
    const read = (start: number) =>
      `(call $report (call $proxy_get_buffer_bytes (i32.const 0) (i32.const ${start}) (i32.const 100) (i32.const 300) (i32.const 304)))
       (call $report (i32.load (i32.const 300))) (call $log_out)`;
    const wasm = filter({
      imports: ["proxy_get_buffer_bytes"],
      body: `(func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
        (i32.store (i32.const 300) (i32.const 77)) ${read(2)} (i32.store (i32.const 300) (i32.const 77)) ${read(10)} (i32.const 0))`,
    });
    const logs = messages(started(wasm).runHttpRequest({ requestBody: ["hello"] }).logs);
    assert.equal(logs[0], "00");
    assert.notEqual(logs[1], "00", "a real allocation for the slice");
    assert.deepEqual(logs.slice(2), ["llo", "00", "00", ""]);
  });

  it("enforces Envoy's set_buffer_bytes rules: start 0 drains size bytes and prepends, start >= len appends, anything else BAD_ARGUMENT", () => {
    const set = (start: number, size: number) =>
      `(call $report (call $proxy_set_buffer_bytes (i32.const 0) (i32.const ${start}) (i32.const ${size}) (i32.const 1024) (i32.const 1)))`;
    const wasm = filter({
      imports: ["proxy_set_buffer_bytes"],
      body: `${data(1024, "X")}
        (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
          ${set(0, 0)} ${set(100, 0)} ${set(2, 1)} ${set(0, 2)} (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({ requestBody: ["hello"] });
    // "hello" -> "Xhello" -> "XhelloX" -> (2,1) refused -> (0,2) drains "Xh", prepends "X"
    assert.deepEqual(messages(result.logs), ["00", "00", "02", "00"]);
    assert.equal(result.upstreamRequest?.body, "XelloX");
    const replace = filter({
      imports: ["proxy_set_buffer_bytes"],
      body: `${data(1024, "X")}(func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) ${set(0, 99)} (i32.const 0))`,
    });
    assert.equal(started(replace).runHttpRequest({ requestBody: ["hello"] }).upstreamRequest?.body, "X");
  });

  it("refuses writes to configuration buffers", () => {
    const wasm = filter({
      imports: ["proxy_set_buffer_bytes"],
      body: `(func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $report (call $proxy_set_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 1)))
        (call $report (call $proxy_set_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 1)))
        (i32.const 1))`,
    });
    assert.deepEqual(messages(createPlugin(wasm, { configuration: "c" }).start().logs), ["02", "02"]);
  });

  it("passes the cumulative size after a body pause and shows the whole buffer", () => {
    const wasm = filter({
      imports: ["proxy_get_buffer_bytes"],
      body: `(func (export "proxy_on_request_body") (param i32) (param $size i32) (param $eos i32) (result i32)
        (call $report (local.get $size))
        (if (result i32) (local.get $eos)
          (then
            (drop (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 0) (local.get $size) (i32.const 300) (i32.const 304)))
            (call $log_out) (i32.const 0))
          (else (i32.const 1))))`,
    });
    const result = started(wasm).runHttpRequest({ requestBody: ["ab", "cd", "ef"] });
    assert.deepEqual(messages(result.logs), ["02", "04", "06", "abcdef"]);
    assert.deepEqual(result.phases.filter((p) => p.phase === "request_body").map((p) => p.result), ["StopIterationAndBuffer", "StopIterationAndBuffer", "Continue"]);
    assert.equal(result.upstreamRequest?.body, "abcdef");
  });
});

describe("HTTP stream: pause, local response, failure", () => {
  it("holds the body while headers are paused and delivers it after continue_stream", () => {
    const wasm = filter({
      imports: ["proxy_set_tick_period_milliseconds", "proxy_set_effective_context", "proxy_continue_stream"],
      body: `
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 1))
        (func (export "proxy_on_tick") (param i32)
          (call $report (call $proxy_set_effective_context (i32.const 2)))
          (call $report (call $proxy_continue_stream (i32.const 0))))
        ${onRequestHeaders("", "(i32.const 1)")}
        (func (export "proxy_on_request_body") (param i32) (param $size i32) (param $eos i32) (result i32) (call $report (local.get $size)) (i32.const 0))`,
    });
    const plugin = started(wasm);
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/"]], false);
    stream.sendRequestBody("abc", false);
    stream.sendRequestBody("de", true);
    assert.equal(stream.result().stopped, "paused");
    assert.ok(!stream.result().phases.some((p) => p.phase === "request_body"));
    assert.equal(stream.result().upstreamRequest, null);
    assert.equal(plugin.tick(), true);
    assert.deepEqual(messages(plugin.logs), ["00", "00"]);
    const result = stream.result();
    assert.deepEqual(messages(result.logs), ["05"]);
    assert.equal(result.upstreamRequest?.body, "abcde");
    assert.equal(result.stopped, null);
  });

  it("sends a local response through the filter's response callbacks and stops the request", () => {
    const wasm = filter({
      imports: ["proxy_send_local_response", "proxy_add_header_map_value"],
      body: `${data(1024, "my_details")}${data(1040, "denied")}${data(1056, "x-seen")}${data(1064, "1")}
        (data (i32.const 1100) "\\01\\00\\00\\00\\05\\00\\00\\00\\01\\00\\00\\00x-why\\00y\\00")
        ${onRequestHeaders(`(call $report (call $proxy_send_local_response (i32.const 403) (i32.const 1024) (i32.const 10) (i32.const 1040) (i32.const 6) (i32.const 1100) (i32.const 20) (i32.const -1)))`)}
        (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (call $report (i32.const 99)) (i32.const 0))
        (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_add_header_map_value (i32.const 2) (i32.const 1056) (i32.const 6) (i32.const 1064) (i32.const 1))) (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({ requestBody: ["never"] });
    assert.equal(result.stopped, "local_response");
    assert.equal(result.upstreamRequest, null);
    assert.equal(result.phases[0].result, "StopAllIterationAndWatermark", "the return value is overridden");
    assert.deepEqual(result.localResponse, {
      status: 403,
      body: "denied",
      bodyBytes: new TextEncoder().encode("denied"),
      headers: [["x-why", "y"]],
      details: "my_details",
      grpcStatus: null,
    });
    assert.deepEqual(result.downstreamResponse?.headers, [
      [":status", "403"],
      ["x-why", "y"],
      ["content-length", "6"],
      ["content-type", "text/plain"],
      ["x-seen", "1"],
    ]);
    assert.equal(result.downstreamResponse?.body, "denied");
    assert.deepEqual(messages(result.logs), ["00"], "no request body callback after the local reply");
    assert.deepEqual(result.phases.map((p) => p.phase), ["request_headers", "response_headers", "response_body", "log", "done", "delete"]);
  });

  it("resets the stream on close_stream", () => {
    const wasm = filter({ imports: ["proxy_close_stream"], body: onRequestHeaders(`(drop (call $proxy_close_stream (i32.const 0)))`) });
    const result = started(wasm).runHttpRequest();
    assert.equal(result.stopped, "reset");
    assert.equal(result.downstreamResponse, null);
  });

  it("fails the VM on a trap: this and later streams get Envoy's 503 wasm_fail_stream", () => {
    const wasm = filter({ body: onRequestHeaders("(unreachable)") });
    const plugin = started(wasm);
    const first = plugin.runHttpRequest();
    assert.equal(first.stopped, "vm_failed");
    assert.equal(plugin.failed, true);
    assert.match(first.logs.at(-1)?.message ?? "", /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
    const next = plugin.runHttpRequest();
    assert.equal(next.stopped, "vm_failed");
    assert.equal(next.upstreamRequest, null);
    assert.deepEqual(next.phases, [], "a failed VM is never called again");
    assert.equal(next.localResponse?.status, 503);
    assert.equal(next.localResponse?.details, "wasm_fail_stream");
    assert.deepEqual(next.downstreamResponse?.headers, [[":status", "503"]]);
  });

  it("lets streams pass untouched after a trap with failOpen", () => {
    const plugin = started(filter({ body: onRequestHeaders("(unreachable)") }), { failOpen: true });
    plugin.runHttpRequest();
    const next = plugin.runHttpRequest({ requestHeaders: [["x-keep", "1"]] });
    assert.equal(next.stopped, null);
    assert.equal(next.localResponse, null);
    assert.ok(next.upstreamRequest?.headers.some(([k]) => k === "x-keep"));
  });
});

describe("hostcall argument checks", () => {
  it("returns INVALID_MEMORY_ACCESS for out-of-bounds pointers, without a JS exception", () => {
    const wasm = filter({
      imports: ["proxy_get_header_map_pairs"],
      body: onRequestHeaders(`
        (call $report (call $proxy_log (i32.const 2) (i32.const -256) (i32.const 10)))
        (call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 200000) (i32.const 304)))`),
    });
    const plugin = started(wasm);
    const result = plugin.runHttpRequest();
    assert.deepEqual(messages(result.logs), ["06", "06"]);
    assert.equal(plugin.failed, false);
    assert.equal(result.stopped, null);
  });

  it("returns INVALID_MEMORY_ACCESS when malloc returns 0", () => {
    const wasm = filter({
      malloc: `(func (export "malloc") (param i32) (result i32) (i32.const 0))`,
      imports: ["proxy_get_header_map_pairs"],
      body: onRequestHeaders(`(call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304)))`),
    });
    assert.deepEqual(messages(started(wasm).runHttpRequest().logs), ["06"]);
  });

  it("answers BAD_ARGUMENT for an unknown effective context and for a log level above 5", () => {
    const wasm = filter({
      imports: ["proxy_set_effective_context"],
      body: onRequestHeaders(`
        (call $report (call $proxy_set_effective_context (i32.const 42)))
        (call $report (call $proxy_set_effective_context (i32.const 1)))
        (call $report (call $proxy_log (i32.const 6) (i32.const 200) (i32.const 1)))`),
    });
    assert.deepEqual(messages(started(wasm).runHttpRequest().logs), ["02", "00", "02"]);
  });

  it("answers OK for a live stream's id as the effective context, and BAD_ARGUMENT once that stream has ended", () => {
    // cpp-host exports.cc set_effective_context looks the id up in contexts_, which ~ContextBase leaves; the
    // SDK asks it whether a context it no longer hears of is gone (assembly/dispatcher/shared-streams.ts).
    const wasm = filter({
      imports: ["proxy_set_effective_context"],
      body: onRequestHeaders(`
        (if (i32.eqz (i32.load (i32.const 1000)))
          (then (i32.store (i32.const 1000) (local.get $ctx)))
          (else (call $report (call $proxy_set_effective_context (i32.load (i32.const 1000))))))`),
    });
    const plugin = started(wasm);
    const first = plugin.newHttpStream();
    first.sendRequestHeaders([[":path", "/"]], true);
    const whileLive = plugin.newHttpStream();
    whileLive.sendRequestHeaders([[":path", "/"]], true);
    first.sendResponseHeaders([[":status", "200"]], true);
    first.complete();
    const afterEnd = plugin.newHttpStream();
    afterEnd.sendRequestHeaders([[":path", "/"]], true);
    assert.deepEqual(messages(whileLive.result().logs), ["00"]);
    assert.deepEqual(messages(afterEnd.result().logs), ["02"]);
  });

  it("reports the host log level and drops messages below it", () => {
    const wasm = filter({
      imports: ["proxy_get_log_level"],
      body: `${data(1024, "dbg")}${data(1030, "err")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (drop (call $proxy_get_log_level (i32.const 308)))
          (drop (call $proxy_log (i32.const 1) (i32.const 1024) (i32.const 3)))
          (drop (call $proxy_log (i32.const 4) (i32.const 1030) (i32.const 3)))
          (drop (call $proxy_log (i32.const 4) (i32.const 1030) (i32.const 0)))
          (i32.store8 (i32.const 1040) (i32.add (i32.const 48) (i32.load (i32.const 308))))
          (drop (call $proxy_log (i32.const 5) (i32.const 1040) (i32.const 1)))
          (i32.const 1))`,
    });
    const start = createPlugin(wasm, { logLevel: "warn" }).start();
    assert.deepEqual(withoutOneVmWarning(start.logs), [
      { level: "error", message: "err" },
      { level: "error", message: "" },
      { level: "critical", message: "3" },
    ]);
  });
});
