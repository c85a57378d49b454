// Root-level behaviour: the tick timer and the clock, shutdown with proxy_done, foreign
// functions and properties.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, encodePairs, WasmResult } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

const WASI_CLOCK = `(import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))`;
/** Reports (the i64 at $p / 1e9) % 100: whole seconds, last two digits. */
const reportSeconds = (p: number) =>
  `(call $report (i32.wrap_i64 (i64.rem_u (i64.div_u (i64.load (i32.const ${p})) (i64.const 1000000000)) (i64.const 100))))`;

describe("tick timer and clock", () => {
  it("fires on_tick every period as time advances, re-armed after each tick, and stops at period 0", () => {
    const wasm = filter({
      imports: ["proxy_set_tick_period_milliseconds"],
      body: `(global $n (mut i32) (i32.const 0))
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1))
        (func (export "proxy_on_tick") (param i32)
          (global.set $n (i32.add (global.get $n) (i32.const 1)))
          (call $report (global.get $n))
          (if (i32.eq (global.get $n) (i32.const 3)) (then (drop (call $proxy_set_tick_period_milliseconds (i32.const 0))))))`,
    });
    const plugin = createPlugin(wasm);
    plugin.start();
    assert.equal(plugin.tickPeriodMs, 100);
    plugin.advanceTime(99);
    assert.deepEqual(messages(plugin.logs), []);
    plugin.advanceTime(151);
    assert.deepEqual(messages(plugin.logs), ["01", "02"]);
    plugin.advanceTime(1000);
    assert.deepEqual(messages(plugin.logs), ["01", "02", "03"]);
    assert.equal(plugin.tickPeriodMs, 0);
    assert.equal(plugin.tick(), false, "no period, no tick");
  });

  it("serves proxy_get_current_time_nanoseconds and WASI realtime/monotonic clocks from the controllable clock", () => {
    const wasm = filter({
      imports: ["proxy_get_current_time_nanoseconds", "proxy_set_tick_period_milliseconds"],
      extraImports: WASI_CLOCK,
      body: `
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 5000))) (i32.const 1))
        (func (export "proxy_on_tick") (param i32)
          (drop (call $proxy_get_current_time_nanoseconds (i32.const 400)))
          (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 408)))
          (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 416)))
          ${reportSeconds(400)} ${reportSeconds(408)} ${reportSeconds(416)})`,
    });
    const plugin = createPlugin(wasm, { now: Date.UTC(2024, 0, 1, 0, 0, 10) });
    plugin.start();
    plugin.advanceTime(5000);
    assert.deepEqual(messages(plugin.logs), ["15", "15", "05"]);
    plugin.setTime(Date.UTC(2024, 0, 1, 0, 0, 42));
    assert.equal(plugin.now(), BigInt(Date.UTC(2024, 0, 1, 0, 0, 42)) * 1_000_000n);
    plugin.advanceTime(5000);
    assert.deepEqual(messages(plugin.logs).slice(3), ["47", "47", "10"]);
  });
});

describe("root shutdown (cpp-host startShutdown / done)", () => {
  const shutdownFilter = (onDone: number) =>
    filter({
      imports: ["proxy_done", "proxy_set_tick_period_milliseconds"],
      body: `
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
        (func (export "proxy_on_done") (param $c i32) (result i32)
          (call $report (i32.const 90)) (call $report (call $proxy_done)) (i32.const ${onDone}))
        (func (export "proxy_on_tick") (param i32) (call $report (i32.const 91)) (call $report (call $proxy_done)) (call $report (i32.const 92)))
        (func (export "proxy_on_delete") (param $c i32) (call $report (i32.const 99)) (call $report (local.get $c)))`,
    });

  it("deletes the root at once when on_done answers true", () => {
    const plugin = createPlugin(shutdownFilter(1));
    plugin.start();
    const result = plugin.shutdown();
    assert.deepEqual(result, { done: true, deleted: true, logs: result.logs });
    assert.deepEqual(messages(result.logs), ["90", "01", "99", "01"], "proxy_done is NOT_FOUND while nothing is pending");
    assert.equal(plugin.state, "deleted");
    assert.throws(() => plugin.runHttpRequest(), /shut down/);
  });

  it("waits for proxy_done when on_done answers false, then runs on_delete after that callback", () => {
    const plugin = createPlugin(shutdownFilter(0));
    plugin.start();
    const result = plugin.shutdown();
    assert.equal(result.done, false);
    assert.equal(result.deleted, false);
    assert.equal(plugin.state, "draining");
    assert.deepEqual(messages(result.logs), ["90", "01"]);
    plugin.tick();
    assert.deepEqual(messages(plugin.logs).slice(2), ["91", "00", "92", "99", "01"]);
    assert.equal(plugin.state, "deleted");
    assert.equal(plugin.tick(), true);
    assert.deepEqual(messages(plugin.logs).slice(7), [], "a deleted root gets no more ticks");
  });

  // Envoy's Wasm::tickHandler finds the root by getContext(), which still holds a root kept in
  // pending_done_; nothing stops its timer at startShutdown (Envoy's WasmCommonTest.Logging ticks
  // such a root, whose on_tick calls proxy_done, and expects on_delete).
  it("keeps a draining root's timer: it ticks every period until its third tick calls proxy_done, then no more", () => {
    const wasm = filter({
      imports: ["proxy_done", "proxy_set_tick_period_milliseconds"],
      body: `(global $n (mut i32) (i32.const 0))
        (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
        (func (export "proxy_on_done") (param i32) (result i32) (global.set $n (i32.const 1)) (call $report (i32.const 90)) (i32.const 0))
        (func (export "proxy_on_tick") (param i32)
          (if (global.get $n) (then
            (call $report (i32.const 91))
            (if (i32.eq (global.get $n) (i32.const 3)) (then (call $report (call $proxy_done))))
            (global.set $n (i32.add (global.get $n) (i32.const 1))))))
        (func (export "proxy_on_delete") (param i32) (call $report (i32.const 99)))`,
    });
    const plugin = createPlugin(wasm, { concurrency: 1 });
    plugin.start();
    const before = plugin.logs.length;
    assert.equal(plugin.shutdown().done, false);
    plugin.advanceTime(25);
    assert.equal(plugin.state, "draining");
    plugin.advanceTime(100);
    assert.deepEqual(messages(plugin.logs.slice(before)), ["90", "91", "91", "91", "00", "99"]);
    assert.equal(plugin.state, "deleted");
  });
});

describe("foreign functions", () => {
  it("calls a function a test registered, Envoy's built-ins, and answers NOT_FOUND for unknown names", () => {
    const wasm = filter({
      imports: ["proxy_call_foreign_function"],
      body: `${data(1100, "shout")}${data(1110, "refuse")}${data(1120, "nope")}${data(1130, "compress")}${data(1140, "hey")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (call $report (call $proxy_call_foreign_function (i32.const 1100) (i32.const 5) (i32.const 1140) (i32.const 3) (i32.const 300) (i32.const 304)))
          (call $log_out)
          (call $report (call $proxy_call_foreign_function (i32.const 1110) (i32.const 6) (i32.const 1140) (i32.const 3) (i32.const 300) (i32.const 304)))
          (call $report (call $proxy_call_foreign_function (i32.const 1120) (i32.const 4) (i32.const 1140) (i32.const 3) (i32.const 300) (i32.const 304)))
          (call $report (call $proxy_call_foreign_function (i32.const 1130) (i32.const 8) (i32.const 1140) (i32.const 3) (i32.const 300) (i32.const 304)))
          (i32.const 1))`,
    });
    const seen: string[] = [];
    const plugin = createPlugin(wasm);
    plugin.registerForeignFunction("shout", (args) => {
      seen.push(new TextDecoder().decode(args));
      return new TextDecoder().decode(args).toUpperCase();
    });
    plugin.registerForeignFunction("refuse", () => WasmResult.BadArgument);
    assert.deepEqual(messages(plugin.start().logs), ["00", "HEY", "02", "01", "00"]);
    assert.deepEqual(seen, ["hey"]);
  });
});

describe("properties (Envoy attributes and serializeValue)", () => {
  /** get_property(path) reports the status and hands the bytes to the foreign function "capture". */
  function propertyFilter(paths: string[]) {
    let at = 2000;
    const segments = paths.map((p) => {
      const seg = { at, len: new TextEncoder().encode(p).length, text: p };
      at += seg.len + 8;
      return seg;
    });
    return filter({
      imports: ["proxy_get_property", "proxy_set_property", "proxy_call_foreign_function"],
      body: `${segments.map((s) => data(s.at, s.text)).join("")}${data(1100, "capture")}${data(1120, "my_key")}${data(1130, "v1")}
        (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
          (call $report (call $proxy_set_property (i32.const 1120) (i32.const 6) (i32.const 1130) (i32.const 2)))
          ${segments
            .map(
              (s) => `(i32.store (i32.const 300) (i32.const 0)) (i32.store (i32.const 304) (i32.const 0))
            (call $report (call $proxy_get_property (i32.const ${s.at}) (i32.const ${s.len}) (i32.const 300) (i32.const 304)))
            (drop (call $proxy_call_foreign_function (i32.const 1100) (i32.const 7) (i32.load (i32.const 300)) (i32.load (i32.const 304)) (i32.const 0) (i32.const 0)))`,
            )
            .join("\n")}
          (i32.const 0))`,
    });
  }
  const int64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return new Uint8Array(b);
  };
  const text = (s: string) => new TextEncoder().encode(s);

  it("answers request attributes, connection defaults, given maps and lists, plugin tokens and filter state", () => {
    const paths = [
      "request\0path",
      "request\0url_path",
      "request\0method",
      "request\0headers",
      "request\0headers\0x-rep",
      "source\0address",
      "source\0port",
      "destination\0port",
      "connection\0mtls",
      "node\0metadata\0NAMESPACE",
      "node\0metadata",
      "sans\x001",
      "plugin_vm_id",
      "my_key",
      "missing",
    ];
    const captured: Uint8Array[] = [];
    const plugin = createPlugin(propertyFilter(paths), {
      vmId: "vm1",
      properties: { "node.metadata": { NAMESPACE: "ns1" }, sans: ["a", "b"] },
    });
    plugin.registerForeignFunction("capture", (args) => void captured.push(args));
    plugin.start();
    const result = plugin.runHttpRequest({ requestHeaders: [[":method", "POST"], [":path", "/p?q=1"], [":authority", "h"], ["x-rep", "1"], ["x-rep", "2"]] });
    assert.deepEqual(messages(result.logs), ["00", ...paths.slice(0, -1).map(() => "00"), "01"]);
    assert.deepEqual(captured.slice(0, -1), [
      text("/p?q=1"),
      text("/p"),
      text("POST"),
      encodePairs([[":scheme", "http"], [":method", "POST"], [":path", "/p?q=1"], [":authority", "h"], ["x-rep", "1,2"]]),
      text("1,2"),
      text("127.0.0.1:50000"),
      int64(50000),
      int64(10000),
      Uint8Array.of(0),
      text("ns1"),
      encodePairs([["NAMESPACE", "ns1"]]),
      text("b"),
      text("vm1"),
      text("v1"),
    ]);
  });

  it("lets options.properties and per-request properties override the connection defaults", () => {
    const captured: Uint8Array[] = [];
    const plugin = createPlugin(propertyFilter(["source\0address", "connection\0mtls"]), { properties: { "source.address": "10.0.0.1:1234" } });
    plugin.registerForeignFunction("capture", (args) => void captured.push(args));
    plugin.start();
    plugin.runHttpRequest({ properties: { "connection.mtls": true } });
    assert.deepEqual(captured, [text("10.0.0.1:1234"), Uint8Array.of(1)]);
  });
});

describe("buffer status and header map size", () => {
  it("answers get_buffer_status with the size and flags 0, NOT_FOUND when unavailable, BAD_ARGUMENT for an unknown type", () => {
    const status = (type: number) =>
      `(i32.store (i32.const 344) (i32.const 77))
       (call $report (call $proxy_get_buffer_status (i32.const ${type}) (i32.const 340) (i32.const 344)))
       (call $report (i32.load (i32.const 340))) (call $report (i32.load (i32.const 344)))`;
    const wasm = filter({
      imports: ["proxy_get_buffer_status", "proxy_get_header_map_size"],
      body: `
        (func (export "proxy_on_configure") (param i32 i32) (result i32) ${status(7)} (i32.const 1))
        (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
          ${status(0)} ${status(4)}
          (call $report (call $proxy_get_buffer_status (i32.const 9) (i32.const 340) (i32.const 344)))
          (call $report (call $proxy_get_header_map_size (i32.const 6) (i32.const 340)))
          (call $report (call $proxy_get_header_map_size (i32.const 0) (i32.const 340)))
          (i32.const 0))`,
    });
    const plugin = createPlugin(wasm, { configuration: "12345" });
    assert.deepEqual(messages(plugin.start().logs), ["00", "05", "00"]);
    const result = plugin.runHttpRequest({ requestBody: ["abc"] });
    // body: 3 bytes, flags 0; call response body: NOT_FOUND (out values untouched); type 9: BAD_ARGUMENT;
    // map 6 size is BAD_ARGUMENT (Envoy's getMap has no callout maps); request headers are gone by now.
    assert.deepEqual(messages(result.logs), ["00", "03", "00", "01", "03", "77", "02", "02", "02"]);
  });
});
