// Envoy facts the host once got wrong (issue 13), each with a module that is not built with our
// SDK: hand-written WAT shaped like what the Rust, C++ and Go SDKs emit. host/FIDELITY.md names
// the Envoy or cpp-host source of each.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { checkModule, createPlugin, encodePairs, type PluginOptions } from "../../host/index.js";
import { bytesData, data, filter, messages, withoutOneVmWarning } from "./support/wat.js";

const started = (wasm: Uint8Array, options: PluginOptions = {}) => {
  const plugin = createPlugin(wasm, { now: 0, ...options });
  const start = plugin.start();
  assert.equal(start.ok, true, start.error ?? "");
  return plugin;
};
const header = (headers: [string, string][] | undefined, name: string) => (headers ?? []).filter(([k]) => k === name);
const pluginReports = (logs: { message: string }[]) => messages(logs).filter((m) => !m.startsWith("host: "));

describe("proxy_set_buffer_bytes: partial replacement (Envoy context.cc Buffer::copyFrom, envoy#17280)", () => {
  // The Rust SDK's set_http_request_body(start, size, value) unwraps the status: a refusal panics.
  const rustStyle = (start: number, size: number) =>
    filter({
      imports: ["proxy_set_buffer_bytes"],
      body: `${data(1024, "partial.replace.")}
        (func (export "proxy_on_request_body") (param i32) (param $size i32) (param $eos i32) (result i32)
          (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
          (if (call $proxy_set_buffer_bytes (i32.const 0) (i32.const ${start}) (i32.const ${size}) (i32.const 1024) (i32.const 16))
            (then unreachable))
          (i32.const 0))`,
    });

  it("replaces the first bytes of a live body as wasm_filter_test BodyRequestPartialReplaceBody expects", () => {
    const plugin = started(rustStyle(0, 1));
    const result = plugin.runHttpRequest({ requestBody: ["hello"] });
    assert.equal(plugin.failed, false, plugin.failure ?? "");
    assert.equal(result.upstreamRequest?.body, "partial.replace.ello");
  });

  it("still refuses a write that starts inside the body", () => {
    const plugin = started(rustStyle(2, 1));
    plugin.runHttpRequest({ requestBody: ["hello"] });
    assert.equal(plugin.failed, true, "the Rust SDK panics on the BadArgument");
  });
});

describe("modules with a start section load as in cpp-host", () => {
  // What AssemblyScript builds by default (and the old AssemblyScript SDK's README builds): top-level
  // code in a start function that sets up globals without calling the host.
  const withStart = (startBody: string, imports: string[] = []) =>
    filter({
      imports,
      body: `${data(1400, "from start")}
        (global $ready (mut i32) (i32.const 0))
        (func $init ${startBody} (global.set $ready (i32.const 42)))
        (start $init)
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (call $report (global.get $ready)) (i32.const 1))`,
    });

  it("runs the start function at instantiation, before on_vm_start", () => {
    const wasm = withStart("");
    const check = checkModule(wasm);
    assert.equal(check.ok, true, check.problems.join("; "));
    assert.equal(check.hasStartSection, true);
    assert.match(check.warnings[0], /start section: Envoy runs it during instantiation, before any context exists/);
    const plugin = createPlugin(wasm);
    const start = plugin.start();
    assert.equal(start.ok, true, start.error ?? "");
    assert.deepEqual(messages(start.logs), ["42"]);
  });

  it("fails to load, saying why, when the start function calls the host (Envoy dereferences a null context)", () => {
    const wasm = withStart("(drop (call $proxy_log (i32.const 2) (i32.const 1400) (i32.const 10)))");
    const start = createPlugin(wasm).start();
    assert.equal(start.ok, false);
    assert.match(start.error ?? "", /^Failed to create new Wasm instance: the module's start function called env\.proxy_log during instantiation, before any context exists/);
    assert.match(start.error ?? "", /crashes/);
  });

  it("lets a start function call what cpp-host serves without a context", () => {
    const wasm = filter({
      extraImports: `(import "env" "pthread_equal" (func $eq (param i32 i32) (result i32)))`,
      body: `(global $ready (mut i32) (i32.const 0))
        (func $init (global.set $ready (call $eq (i32.const 3) (i32.const 3))))
        (start $init)
        (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (call $report (global.get $ready)) (i32.const 1))`,
    });
    assert.deepEqual(messages(started(wasm).logs), ["01"]);
  });
});

describe("Envoy's inline (O(1)) headers hold one entry (header_map.h, HeaderMapImpl::insertByKey)", () => {
  it("proxy_add_header_map_value appends ,value to an inline header and adds a pair for any other", () => {
    // The Go SDK's AddHttpRequestHeader / the Rust SDK's add_http_request_header.
    const wasm = filter({
      imports: ["proxy_add_header_map_value"],
      body: `${data(1500, "x-forwarded-for")}${data(1520, "10.0.0.2")}${data(1540, "x-tag")}${data(1550, "b")}
        ${data(1560, "server")}${data(1570, "edge")}${data(1580, "user-agent")}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 1500) (i32.const 15) (i32.const 1520) (i32.const 8)))
          (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 1540) (i32.const 5) (i32.const 1550) (i32.const 1)))
          ;; an empty value adds nothing to an inline header (appendToHeader)
          (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 1580) (i32.const 10) (i32.const 1550) (i32.const 0)))
          (i32.const 0))
        (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_add_header_map_value (i32.const 2) (i32.const 1560) (i32.const 6) (i32.const 1570) (i32.const 4)))
          (drop (call $proxy_add_header_map_value (i32.const 2) (i32.const 1540) (i32.const 5) (i32.const 1550) (i32.const 1)))
          (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({
      requestHeaders: [["x-forwarded-for", "10.0.0.1"], ["x-tag", "a"], ["user-agent", "curl"]],
      responseHeaders: [[":status", "200"], ["server", "upstream"], ["x-tag", "a"]],
    });
    const up = result.upstreamRequest?.headers;
    assert.deepEqual(header(up, "x-forwarded-for"), [["x-forwarded-for", "10.0.0.1,10.0.0.2"]]);
    assert.deepEqual(header(up, "x-tag"), [["x-tag", "a"], ["x-tag", "b"]]);
    assert.deepEqual(header(up, "user-agent"), [["user-agent", "curl"]]);
    const down = result.downstreamResponse?.headers;
    assert.deepEqual(header(down, "server"), [["server", "upstream,edge"]]);
    assert.deepEqual(header(down, "x-tag"), [["x-tag", "a"], ["x-tag", "b"]]);
  });

  it("proxy_set_header_map_pairs joins repeated inline headers; trailers have none but grpc-status/grpc-message in responses", () => {
    const pairs = encodePairs([[":method", "GET"], [":path", "/"], [":authority", "h"], ["via", "1.1 a"], ["via", "1.1 b"], ["cookie", "a=1"], ["cookie", "b=2"]]);
    const trailers = encodePairs([["grpc-status", "0"], ["grpc-status", "13"], ["x-t", "1"], ["x-t", "2"]]);
    const wasm = filter({
      imports: ["proxy_set_header_map_pairs"],
      body: `${bytesData(2000, pairs)}${bytesData(2400, trailers)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_set_header_map_pairs (i32.const 0) (i32.const 2000) (i32.const ${pairs.length})))
          (i32.const 0))
        (func (export "proxy_on_response_trailers") (param i32 i32) (result i32)
          (drop (call $proxy_set_header_map_pairs (i32.const 3) (i32.const 2400) (i32.const ${trailers.length})))
          (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({ responseTrailers: [["x", "y"]] });
    const up = result.upstreamRequest?.headers;
    assert.deepEqual(header(up, "via"), [["via", "1.1 a,1.1 b"]]);
    assert.deepEqual(header(up, "cookie"), [["cookie", "a=1"], ["cookie", "b=2"]]);
    assert.deepEqual(result.downstreamResponse?.trailers, [["grpc-status", "0,13"], ["x-t", "1"], ["x-t", "2"]]);
  });

  it("reads and writes the legacy host header as :authority in a request map", () => {
    const wasm = filter({
      imports: ["proxy_get_header_map_value", "proxy_add_header_map_value"],
      body: `${data(1500, "host")}${data(1510, "b.example")}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1500) (i32.const 4) (i32.const 300) (i32.const 304)))
          (call $log_out)
          (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 1500) (i32.const 4) (i32.const 1510) (i32.const 9)))
          (i32.const 0))`,
    });
    const result = started(wasm).runHttpRequest({ requestHeaders: [[":authority", "a.example"]] });
    assert.deepEqual(messages(result.logs), ["00", "a.example"]);
    const up = result.upstreamRequest?.headers ?? [];
    assert.deepEqual(header(up, ":authority"), [[":authority", "a.example,b.example"]]);
    assert.deepEqual(header(up, "host"), []);
  });

  it("builds callout headers as a request header map: inline headers joined, host counts as :authority", () => {
    const pairs = encodePairs([[":method", "GET"], [":path", "/"], ["host", "authz"], ["via", "a"], ["via", "b"], ["x-k", "1"], ["x-k", "2"]]);
    const wasm = filter({
      imports: ["proxy_http_call"],
      body: `${data(1100, "authz")}${bytesData(2000, pairs)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 2000) (i32.const ${pairs.length})
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 320)))
          (i32.const 1))`,
    });
    const plugin = started(wasm);
    const result = plugin.runHttpRequest();
    assert.deepEqual(messages(result.logs), ["00"]);
    assert.deepEqual(plugin.pendingHttpCalls()[0].headers, [
      [":method", "GET"],
      [":path", "/"],
      [":authority", "authz"],
      ["via", "a,b"],
      ["x-k", "1"],
      ["x-k", "2"],
    ]);
  });
});

describe("proxy_http_call (Envoy context.cc Context::httpCall)", () => {
  const call = (headers: Uint8Array, body: string, timeout = 100, cluster = "authz") =>
    filter({
      imports: ["proxy_http_call"],
      body: `${data(1100, cluster)}${bytesData(2000, headers)}${data(1800, body)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_http_call (i32.const 1100) (i32.const ${cluster.length}) (i32.const 2000) (i32.const ${headers.length})
            (i32.const 1800) (i32.const ${body.length}) (i32.const 0) (i32.const 0) (i32.const ${timeout}) (i32.const 320)))
          (i32.const 1))`,
    });
  const GOOD = [[":method", "POST"], [":path", "/check"], [":authority", "authz"]] as [string, string][];

  it("sets content-length to the body size (setContentLength), replacing one the filter gave", () => {
    const plugin = started(call(encodePairs([...GOOD, ["content-length", "999"]]), "{\"user\":1}"));
    plugin.runHttpRequest();
    const [pending] = plugin.pendingHttpCalls();
    assert.deepEqual(header(pending.headers, "content-length"), [["content-length", "10"]]);
    assert.equal(pending.body, "{\"user\":1}");
  });

  it("adds no content-length for an empty body", () => {
    const plugin = started(call(encodePairs(GOOD), ""));
    plugin.runHttpRequest();
    assert.deepEqual(header(plugin.pendingHttpCalls()[0].headers, "content-length"), []);
  });

  it("logs why it refused a call, in one line: the missing pseudo-headers", () => {
    const plugin = started(call(encodePairs([[":method", "GET"]]), ""));
    const result = plugin.runHttpRequest();
    assert.deepEqual(pluginReports(result.logs), ["02"]);
    const warning = result.logs.find((l) => l.message.startsWith("host: "));
    assert.equal(warning?.level, "warn");
    assert.equal(warning?.message, 'host: proxy_http_call to "authz" refused with BadArgument: missing :path, :authority headers');
  });

  it("names the cluster asked for and the known ones, and a negative timeout", () => {
    const plugin = started(call(encodePairs(GOOD), "", -5, "nope"), { clusters: ["authz", "ratelimit"] });
    const result = plugin.runHttpRequest();
    assert.deepEqual(pluginReports(result.logs), ["02"]);
    assert.deepEqual(
      result.logs.filter((l) => l.message.startsWith("host: ")).map((l) => l.message),
      ['host: proxy_http_call to "nope" refused with BadArgument: negative timeout -5 ms (0 means none); unknown cluster "nope" (known: "authz", "ratelimit")'],
    );
  });

  it("says when the headers are not a pairs serialization at all", () => {
    const plugin = started(call(Uint8Array.of(9, 0, 0, 0, 1), ""));
    const result = plugin.runHttpRequest();
    assert.match(result.logs.find((l) => l.message.startsWith("host: "))?.message ?? "", /missing :method, :path, :authority headers \(the headers are not a valid pairs serialization, so Envoy sees none\)$/);
  });
});

describe("attributes as Envoy's expr/context.cc computes them", () => {
  /** Reads each path with get_property in the given callback and hands the bytes to "capture". */
  function reader(callback: "request_headers" | "response_headers" | "log", paths: string[], before = "") {
    let at = 2000;
    const reads = paths.map((p) => {
      const read = `${data(at, p)}`;
      const call = `(i32.store (i32.const 300) (i32.const 0)) (i32.store (i32.const 304) (i32.const 0))
        (drop (call $proxy_get_property (i32.const ${at}) (i32.const ${p.length}) (i32.const 300) (i32.const 304)))
        (drop (call $proxy_call_foreign_function (i32.const 1100) (i32.const 7) (i32.load (i32.const 300)) (i32.load (i32.const 304)) (i32.const 0) (i32.const 0)))`;
      at += p.length + 8;
      return { read, call };
    });
    return filter({
      imports: ["proxy_get_property", "proxy_call_foreign_function", "proxy_close_stream"],
      body: `${data(1100, "capture")}${reads.map((r) => r.read).join("")}
        ${
          callback === "log"
            ? `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${before} (i32.const 0))
               (func (export "proxy_on_log") (param i32) ${reads.map((r) => r.call).join("\n")})`
            : `(func (export "proxy_on_${callback}") (param i32 i32 i32) (result i32) ${reads.map((r) => r.call).join("\n")} (i32.const 0))`
        }`,
    });
  }
  const capture = (wasm: Uint8Array, spec: Parameters<ReturnType<typeof createPlugin>["runHttpRequest"]>[0], options: PluginOptions = {}) => {
    const captured: string[] = [];
    const plugin = createPlugin(wasm, options);
    plugin.registerForeignFunction("capture", (args) => void captured.push(Buffer.from(args).toString("hex")));
    plugin.start();
    plugin.runHttpRequest(spec);
    return captured;
  };
  const int64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b.toString("hex");
  };
  const hex = (s: string) => Buffer.from(s).toString("hex");

  it("request.query stops at the fragment; request.host reads :authority", () => {
    const wasm = reader("request_headers", ["request\0query", "request\0url_path", "request\0host"]);
    assert.deepEqual(capture(wasm, { requestHeaders: [[":path", "/a?x=1&y=2#frag"], [":authority", "h"]] }), [hex("x=1&y=2"), hex("/a"), hex("h")]);
  });

  it("request.time (int64 ns) and request.protocol in the request; response.code (int64), code_details and headers in the response", () => {
    const request = reader("request_headers", ["request\0time", "request\0protocol"]);
    assert.deepEqual(capture(request, {}, { now: 1000 }), [int64(1_000_000_000), hex("HTTP/1.1")]);
    const response = reader("response_headers", ["response\0code", "response\0code_details", "response\0headers\0x-a"]);
    assert.deepEqual(capture(response, { responseHeaders: [[":status", "201"], ["x-a", "1"], ["x-a", "2"]] }), [int64(201), hex("via_upstream"), hex("1,2")]);
  });

  it("request.size: content-length, else the body bytes received; total_size adds the header bytes; response.size: body bytes sent", () => {
    const declared = reader("request_headers", ["request\0size"]);
    assert.deepEqual(capture(declared, { requestHeaders: [[":path", "/"], ["content-length", "5"]], requestBody: ["hello"] }), [int64(5)]);
    assert.deepEqual(capture(declared, { requestHeaders: [[":path", "/"], ["content-length", "x"]] }), [""], "a bad content-length answers nothing");
    const atLog = reader("log", ["request\0size", "request\0total_size", "response\0size"]);
    const headers: [string, string][] = [[":method", "POST"], [":path", "/"], [":authority", "h"], [":scheme", "http"]];
    assert.deepEqual(capture(atLog, { requestHeaders: headers, requestBody: ["hel", "lo"], responseBody: ["0123456789"] }), [
      int64(5),
      int64(5 + 7 + 4 + 5 + 1 + 10 + 1 + 7 + 4),
      int64(10),
    ]);
  });

  it("request.duration (int64 ns): from the stream's start to the request's last byte, none before; response.flags 0", () => {
    const atHeaders = reader("request_headers", ["request\0duration", "response\0flags"]);
    assert.deepEqual(capture(atHeaders, {}, { now: 0 }), [int64(0), int64(0)], "headers with end_of_stream: the request is complete before the filter runs");
    assert.deepEqual(capture(atHeaders, { requestBody: ["x"] }, { now: 0 }), ["", int64(0)], "not complete yet: NotFound");
    const captured: string[] = [];
    const plugin = createPlugin(reader("response_headers", ["request\0duration"]), { now: 0 });
    plugin.registerForeignFunction("capture", (args) => void captured.push(Buffer.from(args).toString("hex")));
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":method", "POST"], [":path", "/"], [":authority", "h"]], false);
    plugin.advanceTime(250);
    stream.sendRequestBody("x", true);
    plugin.advanceTime(1000);
    stream.sendResponseHeaders([[":status", "200"]], true);
    assert.deepEqual(captured, [int64(250_000_000)]);
  });

  it("with connectionManagerHeaders, the filter sees the x-request-id (UUID v4) and x-forwarded-proto Envoy's connection manager adds when absent", () => {
    const wasm = reader("request_headers", ["request\0id", "request\0headers\0x-forwarded-proto"]);
    const [id, proto] = capture(wasm, {}, { connectionManagerHeaders: true }).map((h) => Buffer.from(h, "hex").toString());
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(proto, "http");
    const given = capture(wasm, { requestHeaders: [["x-request-id", "mine"], ["x-forwarded-proto", "https"]] }, { connectionManagerHeaders: true });
    assert.deepEqual(given, [hex("mine"), hex("https")], "kept when the request has them");
    assert.deepEqual(capture(wasm, {}), ["", ""], "off by default: the request as the test gave it");
  });

  it("response.code_details is wasm_close_stream after close_stream, with no response", () => {
    const wasm = reader("log", ["response\0code_details", "response\0code"], "(drop (call $proxy_close_stream (i32.const 0)))");
    assert.deepEqual(capture(wasm, {}), [hex("wasm_close_stream"), ""]);
  });

  it("response.grpc_status: the response's grpc-status, else the HTTP status mapped (httpToGrpcStatus), -1 for a bad value", () => {
    const wasm = reader("response_headers", ["response\0grpc_status"]);
    assert.deepEqual(capture(wasm, { responseHeaders: [[":status", "200"], ["grpc-status", "5"]] }), [int64(5)]);
    assert.deepEqual(capture(wasm, { responseHeaders: [[":status", "503"]] }), [int64(14)]);
    assert.deepEqual(capture(wasm, { responseHeaders: [[":status", "200"]] }), [int64(2)]);
    assert.deepEqual(capture(wasm, { responseHeaders: [[":status", "200"], ["grpc-status", "99"]] }), [int64(-1)]);
  });
});

describe("Envoy's foreign functions declare_property and set_envoy_filter_state (foreign.cc, context.cc)", () => {
  // Protobuf arguments as the Rust and Go SDKs' helpers serialize them.
  const proto = (...fields: [number, string | number][]) =>
    Uint8Array.from(
      fields.flatMap(([n, v]) => {
        if (typeof v === "number") return [(n << 3) | 0, v];
        const bytes = [...new TextEncoder().encode(v)];
        return [(n << 3) | 2, bytes.length, ...bytes];
      }),
    );
  const DECLARE_READONLY = proto([1, "token"], [2, 1]);
  const DECLARE_PLAIN = proto([1, "plain"]);
  const CLUSTER = proto([1, "envoy.tcp_proxy.cluster"], [2, "backend"]);
  const UNKNOWN_KEY = proto([1, "my.own.key"], [2, "x"]);
  const MALFORMED = Uint8Array.of(0x0a, 0x09, 0x61);
  const call = (nameAt: number, nameLength: number, argsAt: number, argsLength: number) =>
    `(call $report (call $proxy_call_foreign_function (i32.const ${nameAt}) (i32.const ${nameLength}) (i32.const ${argsAt}) (i32.const ${argsLength}) (i32.const 300) (i32.const 304)))`;
  const set = (at: number, length: number, valueAt: number) =>
    `(call $report (call $proxy_set_property (i32.const ${at}) (i32.const ${length}) (i32.const ${valueAt}) (i32.const 1)))`;
  const wasm = filter({
    imports: ["proxy_call_foreign_function", "proxy_set_property"],
    body: `${data(1000, "declare_property")}${data(1020, "set_envoy_filter_state")}${data(1050, "token")}${data(1060, "plain")}${data(1070, "ab")}
      ${bytesData(1100, DECLARE_READONLY)}${bytesData(1150, DECLARE_PLAIN)}${bytesData(1200, CLUSTER)}${bytesData(1300, UNKNOWN_KEY)}${bytesData(1400, MALFORMED)}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        ${call(1000, 16, 1100, DECLARE_READONLY.length)}
        ${call(1000, 16, 1100, DECLARE_READONLY.length)}
        ${call(1000, 16, 1150, DECLARE_PLAIN.length)}
        ${call(1000, 16, 1400, MALFORMED.length)}
        ${call(1020, 22, 1200, CLUSTER.length)}
        (i32.const 1))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        ${set(1050, 5, 1070)} ${set(1050, 5, 1071)}
        ${set(1060, 5, 1070)} ${set(1060, 5, 1071)}
        ${call(1020, 22, 1200, CLUSTER.length)}
        ${call(1020, 22, 1300, UNKNOWN_KEY.length)}
        ${call(1020, 22, 1400, MALFORMED.length)}
        (i32.const 0))`,
  });

  it("declare_property: OK once per name, BadArgument again or for bad arguments; a readonly property takes one value", () => {
    const plugin = createPlugin(wasm);
    // declare: OK, again BadArgument, another OK, malformed BadArgument; set_envoy_filter_state on a root: NotFound
    assert.deepEqual(messages(plugin.start().logs), ["00", "02", "00", "02", "01"]);
    const result = plugin.runHttpRequest();
    // readonly: first set OK, second BadArgument; declared without readonly: both OK;
    // set_envoy_filter_state: a key Envoy can build OK, an unknown key NotFound, malformed BadArgument
    assert.deepEqual(messages(result.logs), ["00", "02", "00", "00", "00", "01", "02"]);
  });
});

describe("defaults kinder than Envoy say so", () => {
  const caller = filter({ imports: ["proxy_http_call"], body: "" });

  it("without clusters, a module that can call out gets a warning at start: any name is accepted, Envoy refuses unknown ones", () => {
    const start = createPlugin(caller).start();
    assert.equal(start.ok, true);
    assert.deepEqual(start.logs, [
      {
        level: "warn",
        message:
          "host: no clusters given, so proxy_http_call accepts any cluster name; Envoy answers BadArgument (gRPC: ParseFailure) for a cluster it does not know: list them (clusters option, simulate --cluster)",
      },
    ]);
  });

  it("with clusters given, or without callout imports, there is nothing to warn about", () => {
    assert.deepEqual(createPlugin(caller, { clusters: ["authz"] }).start().logs, []);
    assert.deepEqual(createPlugin(filter()).start().logs, []);
  });
});

describe("local replies as Envoy's Utility::prepareLocalReply builds them", () => {
  const details = "denied_by_wasm";
  const replyFilter = (status: number, body: string, headers: [string, string][], grpcStatus = -1) => {
    const pairs = encodePairs(headers);
    return filter({
      imports: ["proxy_send_local_response"],
      body: `${data(1024, details)}${data(1100, body)}${bytesData(1400, pairs)}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (drop (call $proxy_send_local_response (i32.const ${status}) (i32.const 1024) (i32.const ${details.length})
            (i32.const 1100) (i32.const ${new TextEncoder().encode(body).length}) (i32.const 1400) (i32.const ${pairs.length}) (i32.const ${grpcStatus})))
          (i32.const 0))
        (func (export "proxy_on_response_headers") (param i32 i32) (param $eos i32) (result i32) (call $report (local.get $eos)) (i32.const 0))
        (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (call $report (i32.const 99)) (i32.const 0))`,
    });
  };
  const grpcRequest: [string, string][] = [[":method", "POST"], [":path", "/pkg.Svc/Call"], ["content-type", "application/grpc"]];

  it("answers a gRPC request trailers-only: 200, application/grpc, grpc-status from the HTTP status, grpc-message percent-encoded, no body", () => {
    const wasm = replyFilter(403, "no~ 100%\n", [["content-type", "text/html"], ["content-length", "5"]]);
    const result = started(wasm).runHttpRequest({ requestHeaders: grpcRequest });
    assert.equal(result.stopped, "local_response");
    assert.deepEqual(result.downstreamResponse?.headers, [
      [":status", "200"],
      ["content-type", "application/grpc"],
      ["grpc-status", "7"],
      ["grpc-message", "no%7E 100%25%0A"],
    ]);
    assert.equal(result.downstreamResponse?.body, "");
    assert.deepEqual(pluginReports(result.logs), ["01"], "the filter's response headers callback sees end of stream and no body follows");
    assert.deepEqual(result.phases.map((p) => p.phase), ["request_headers", "response_headers", "log", "done", "delete"]);
  });

  it("uses the filter's gRPC status, and a grpc-status header the filter gave wins over both", () => {
    const own = started(replyFilter(429, "", [], 16)).runHttpRequest({ requestHeaders: grpcRequest });
    assert.deepEqual(header(own.downstreamResponse?.headers, "grpc-status"), [["grpc-status", "16"]]);
    assert.deepEqual(header(own.downstreamResponse?.headers, "grpc-message"), [], "an empty body sends no grpc-message");
    const given = started(replyFilter(429, "", [["grpc-status", "3"]], 16)).runHttpRequest({ requestHeaders: grpcRequest });
    assert.deepEqual(header(given.downstreamResponse?.headers, "grpc-status"), [["grpc-status", "3"]]);
  });

  it("treats application/grpc-web as plain HTTP (hasGrpcContentType)", () => {
    const result = started(replyFilter(403, "no", [])).runHttpRequest({
      requestHeaders: [[":path", "/x"], ["content-type", "application/grpc-web"]],
    });
    assert.deepEqual(result.downstreamResponse?.headers, [[":status", "403"], ["content-length", "2"], ["content-type", "text/plain"]]);
    assert.equal(result.downstreamResponse?.body, "no");
  });

  it("removes content-type and content-length for an empty body even when the filter supplied them", () => {
    const result = started(replyFilter(401, "", [["content-type", "application/json"], ["content-length", "17"], ["www-authenticate", "Bearer"]])).runHttpRequest();
    assert.deepEqual(result.downstreamResponse?.headers, [[":status", "401"], ["www-authenticate", "Bearer"]]);
    assert.deepEqual(pluginReports(result.logs), ["01"]);
  });

  it("answers a HEAD request with the headers alone (content-length of the body), ending the stream", () => {
    const result = started(replyFilter(403, "denied", [])).runHttpRequest({ requestHeaders: [[":method", "HEAD"], [":path", "/"]] });
    assert.deepEqual(result.downstreamResponse?.headers, [[":status", "403"], ["content-length", "6"], ["content-type", "text/plain"]]);
    assert.equal(result.downstreamResponse?.body, "");
    assert.deepEqual(pluginReports(result.logs), ["01"]);
  });

  it("fails a gRPC stream of a failed VM as gRPC: 200 with grpc-status 14 (Unavailable)", () => {
    const wasm = filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable)` });
    const result = started(wasm).runHttpRequest({ requestHeaders: grpcRequest });
    assert.equal(result.stopped, "vm_failed");
    assert.deepEqual(result.downstreamResponse?.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"]]);
  });
});

describe("proxy_close_stream resets before the filter manager moves on (Context::closeStream, an after-VM-call action)", () => {
  const closing = (callback: "request_headers" | "request_body") =>
    filter({
      imports: ["proxy_close_stream"],
      body: `(func (export "proxy_on_${callback}") (param i32 i32 i32) (result i32)
        (drop (call $proxy_close_stream (i32.const 0))) (i32.const 0))`,
    });

  it("inside on_request_headers: the upstream sees nothing", () => {
    const result = started(closing("request_headers")).runHttpRequest({ requestBody: ["data"] });
    assert.equal(result.stopped, "reset");
    assert.equal(result.upstreamRequest, null);
    assert.equal(result.downstreamResponse, null);
  });

  it("inside on_request_body: the chunk the filter saw is not passed on", () => {
    const result = started(closing("request_body")).runHttpRequest({ requestBody: ["secret"] });
    assert.equal(result.stopped, "reset");
    assert.equal(result.upstreamRequest?.body, "");
    assert.equal(result.phases.some((p) => p.phase === "response_headers"), false);
  });
});

describe("a stale content-length after the filter changed a body (issue 15)", () => {
  // The body-rewrite pattern: buffer to the end, replace the whole body, continue.
  const rewriter = (removeContentLength: boolean) =>
    filter({
      imports: ["proxy_set_buffer_bytes", "proxy_remove_header_map_value"],
      body: `${data(1024, "a longer body")}${data(1100, "content-length")}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          ${removeContentLength ? "(drop (call $proxy_remove_header_map_value (i32.const 0) (i32.const 1100) (i32.const 14)))" : ""}
          (i32.const 0))
        (func (export "proxy_on_request_body") (param i32) (param $size i32) (param $eos i32) (result i32)
          (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
          (drop (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (local.get $size) (i32.const 1024) (i32.const 13)))
          (i32.const 0))`,
    });
  const request = { requestHeaders: [[":method", "POST"], [":path", "/"], ["content-length", "5"]] as [string, string][], requestBody: ["hel", "lo"] };

  it("is passed on as Envoy does, with a warning in the result's logs", () => {
    const result = started(rewriter(false)).runHttpRequest(request);
    assert.equal(result.upstreamRequest?.body, "a longer body");
    assert.deepEqual(header(result.upstreamRequest?.headers, "content-length"), [["content-length", "5"]]);
    assert.deepEqual(
      result.logs.filter((l) => l.message.startsWith("host: ")),
      [
        {
          level: "warn",
          message:
            "host: the filter changed the request body to 13 bytes but content-length still says 5; Envoy forwards it as is, so the upstream gets a broken message: remove content-length in on_request_headers or set the new length",
        },
      ],
    );
  });

  it("is not reported when the filter removed content-length, or did not change the body", () => {
    assert.deepEqual(started(rewriter(true)).runHttpRequest(request).logs, []);
    const untouched = started(filter()).runHttpRequest({ ...request, requestHeaders: [[":path", "/"], ["content-length", "9"]] });
    assert.deepEqual(untouched.logs, []);
  });
});

describe("WASI as cpp-host serves it (exports.cc)", () => {
  const wasi = (name: string, sig: string) => `(import "wasi_snapshot_preview1" "${name}" (func $${name} ${sig}))`;

  it("fd_write: stdout at info, stderr at error, one trailing newline dropped, other fds BADF; random_get over 64 KiB EINVAL; proc_exit goes on", () => {
    const wasm = filter({
      extraImports: [
        wasi("fd_write", "(param i32 i32 i32 i32) (result i32)"),
        wasi("random_get", "(param i32 i32) (result i32)"),
        wasi("proc_exit", "(param i32)"),
        wasi("environ_sizes_get", "(param i32 i32) (result i32)"),
      ].join("\n"),
      body: `${data(1024, "out line\n\n")}${data(1040, "err\n")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          ;; iovecs at 400: (1024, 10) and (1040, 4)
          (i32.store (i32.const 400) (i32.const 1024)) (i32.store (i32.const 404) (i32.const 10))
          (i32.store (i32.const 408) (i32.const 1040)) (i32.store (i32.const 412) (i32.const 4))
          (call $report (call $fd_write (i32.const 1) (i32.const 400) (i32.const 1) (i32.const 420)))
          (call $report (i32.load (i32.const 420)))
          (call $report (call $fd_write (i32.const 2) (i32.const 408) (i32.const 1) (i32.const 420)))
          (call $report (call $fd_write (i32.const 3) (i32.const 400) (i32.const 1) (i32.const 420)))
          (call $report (call $random_get (i32.const 2048) (i32.const 65537)))
          (call $report (call $random_get (i32.const 2048) (i32.const 16)))
          (call $proc_exit (i32.const 1))
          (call $report (call $environ_sizes_get (i32.const 424) (i32.const 428)))
          (call $report (i32.load (i32.const 424)))
          (call $report (i32.load (i32.const 428)))
          (i32.const 1))`,
    });
    const start = createPlugin(wasm, { environment: { A: "1" } }).start();
    assert.equal(start.ok, true, start.error ?? "");
    assert.deepEqual(
      withoutOneVmWarning(start.logs).map((l) => [l.level, l.message]),
      [
        ["info", "out line\n"],
        ["info", "00"],
        ["info", "10"],
        ["error", "err"],
        ["info", "00"],
        ["info", "08"],
        ["info", "28"],
        ["info", "00"],
        // proc_exit: Envoy's Context::error() logs at trace only, and the module goes on
        ["info", "00"],
        ["info", "01"],
        ["info", "04"],
      ],
    );
  });
});

describe("the request a test gives", () => {
  it("a host header is the :authority: no default :authority is added next to it", () => {
    const result = started(filter()).runHttpRequest({ requestHeaders: [["Host", "api.example"]] });
    assert.deepEqual(header(result.upstreamRequest?.headers, ":authority"), [[":authority", "api.example"]]);
  });
});

describe("GRPC_RECEIVE_BUFFER is the received message's own buffer (Context::getBuffer)", () => {
  it("accepts writes inside on_grpc_receive, and reads see them", () => {
    const wasm = filter({
      imports: ["proxy_grpc_call", "proxy_set_buffer_bytes", "proxy_get_buffer_bytes"],
      body: `${data(1100, "svc")}${data(1110, "pkg.S")}${data(1120, "M")}${data(1130, ">")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (drop (call $proxy_grpc_call (i32.const 1100) (i32.const 3) (i32.const 1110) (i32.const 5) (i32.const 1120) (i32.const 1)
            (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 320)))
          (i32.const 1))
        (func (export "proxy_on_grpc_receive") (param i32 i32) (param $size i32)
          (call $report (call $proxy_set_buffer_bytes (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 1130) (i32.const 1)))
          (call $report (call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (i32.const 100) (i32.const 300) (i32.const 304)))
          (call $log_out))`,
    });
    const plugin = started(wasm, { clusters: ["svc"] });
    plugin.respondToGrpcCall(5, new TextEncoder().encode("msg"));
    assert.deepEqual(messages(plugin.logs), ["00", "00", ">msg"]);
  });
});

describe("a module built by the old AssemblyScript SDK, as its README builds it (tests/fixtures/solo)", () => {
  it("loads despite its start section and adds its header", () => {
    const wasm = new Uint8Array(readFileSync(new URL("../../../tests/fixtures/solo/add-header.wasm", import.meta.url)));
    assert.equal(checkModule(wasm).hasStartSection, true);
    const plugin = started(wasm, { rootId: "add_header", configuration: "world" });
    const result = plugin.runHttpRequest();
    assert.deepEqual(header(result.downstreamResponse?.headers, "hello"), [["hello", "world"]]);
    assert.equal(plugin.failed, false);
  });
});
