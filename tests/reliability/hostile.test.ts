// The host under hostile modules (WAT fixtures): malformed pairs buffers, pointers and lengths out
// of bounds, allocators that fail or lie, callbacks that trap, recurse or run long. The host must
// answer as cpp-host does (empty map, BadArgument, InvalidMemoryAccess, failed VM) and never
// throw a JavaScript exception into its caller.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createPlugin, decodePairs, encodePairs, type Plugin } from "../../host/index.js";
import { envImports, formatTypes, WASI_IMPORTS, type FuncSig } from "../../host/abi/signatures.js";
import { bytesData, filter, messages, wat } from "../host/support/wat.js";
import { assertProperty } from "./support.js";

const MEMORY_BYTES = 2 * 65536; // filter() declares 2 pages
const PAYLOAD = 4096; // the test's bytes (header x-payload) are copied here
const ARGS_AT = 8192; // the arguments (header x-args) are copied here

/** A request-headers callback around `code`. */
const onRequestHeaders = (code: string) =>
  `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${code} (i32.const 0))`;

const headerValueTo = (name: string, nameAt: number, to: number) => `
  (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const ${nameAt}) (i32.const ${name.length}) (i32.const 300) (i32.const 304)))
    (then (call $copy (i32.load (i32.const 300)) (i32.load (i32.const 304)) (i32.const ${to}))))`;

// ---- Every import, with arguments chosen by the test ------------------------------------------

type Target = { module: string; name: string; sig: FuncSig };
export const TARGETS: Target[] = [
  ...Object.entries(envImports("0.2.1")).map(([name, sig]) => ({ module: "env", name, sig })),
  ...Object.entries(WASI_IMPORTS).map(([name, sig]) => ({ module: "wasi_snapshot_preview1", name, sig })),
];

/**
 * One module that imports everything; on_request_headers copies header x-payload to PAYLOAD and
 * x-args to ARGS_AT, then calls import number u32[ARGS_AT] with the arguments that follow (8
 * bytes each, i32 or i64), and logs the result as decimal (or "void").
 */
export function fuzzModule(): Uint8Array {
  const imports = TARGETS.map((t, i) => {
    const params = t.sig.params.length ? `(param ${formatTypes(t.sig.params)})` : "";
    const results = t.sig.results.length ? `(result ${formatTypes(t.sig.results)})` : "";
    return `(import "${t.module}" "${t.name}" (func $t${i} ${params} ${results}))`;
  });
  const dispatch = TARGETS.map((t, i) => {
    const args = t.sig.params.map((p, k) => `(${p}.load (i32.const ${ARGS_AT + 4 + k * 8}))`).join(" ");
    const call = `(call $t${i} ${args})`;
    const report = t.sig.results.length === 0 ? `${call} (call $say_void)` : t.sig.results[0] === "i64" ? `(drop ${call}) (call $say_void)` : `(call $say ${call})`;
    return `(if (i32.eq (local.get $n) (i32.const ${i})) (then ${report}))`;
  });
  return wat(`(module
    ${imports.join("\n")}
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 32768))
    (func (export "malloc") (param $n i32) (result i32) (local $p i32)
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (local.get $n)))
      (local.get $p))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0))
    (func $copy (param $from i32) (param $len i32) (param $to i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store8 (local.get $to) (i32.load8_u (local.get $from)))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $to (i32.add (local.get $to) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next))))
    (func $say (param $v i32) (local $p i32) (local $u i32)
      ;; the unsigned value in decimal at 220..229, logged at info
      (local.set $p (i32.const 230))
      (local.set $u (local.get $v))
      (loop $digit
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $u) (i32.const 10))))
        (local.set $u (i32.div_u (local.get $u) (i32.const 10)))
        (br_if $digit (local.get $u)))
      (drop (call $t${TARGETS.findIndex((t) => t.name === "proxy_log")} (i32.const 2) (local.get $p) (i32.sub (i32.const 230) (local.get $p)))))
    (func $say_void (drop (call $t${TARGETS.findIndex((t) => t.name === "proxy_log")} (i32.const 2) (i32.const 240) (i32.const 4))))
    (data (i32.const 240) "void")
    (data (i32.const 250) "x-payloadx-args")
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $n i32)
      ${headerValueTo("x-payload", 250, PAYLOAD).replaceAll("$proxy_get_header_map_value", `$t${TARGETS.findIndex((t) => t.name === "proxy_get_header_map_value")}`)}
      ${headerValueTo("x-args", 259, ARGS_AT).replaceAll("$proxy_get_header_map_value", `$t${TARGETS.findIndex((t) => t.name === "proxy_get_header_map_value")}`)}
      (local.set $n (i32.load (i32.const ${ARGS_AT})))
      ${dispatch.join("\n")}
      (i32.const 0))
    (func (export "proxy_on_context_create") (param i32 i32))
  )`);
}

/** Pointers and lengths a hostile module would pass. */
const hostileWord = fc.oneof(
  fc.constantFrom(0, 1, 4, 300, PAYLOAD, PAYLOAD + 1, MEMORY_BYTES - 4, MEMORY_BYTES - 1, MEMORY_BYTES, MEMORY_BYTES + 1),
  fc.constantFrom(0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffc, 0xffffffff, 1024, 1025, 65536),
  fc.nat(64),
  fc.nat(MEMORY_BYTES),
  fc.integer({ min: 0, max: 0xffffffff }),
);

describe("hostile modules: every hostcall with hostile arguments", () => {
  const wasm = fuzzModule();
  const ARG_BYTES = 4 + 8 * 10;

  it("never throws into the caller; each call returns a status or fails the VM as cpp-host would", () => {
    let plugin: Plugin = createPlugin(wasm);
    assert.equal(plugin.start().ok, true, plugin.start().error ?? "");
    let failures = 0;
    assertProperty(
      fc.property(
        fc.nat(TARGETS.length - 1),
        fc.array(hostileWord, { minLength: 10, maxLength: 10 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 4 }).map((p) => encodePairs(p)),
          fc.tuple(fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 0xffffffff })).map(([p, at, v]) => {
            const b = encodePairs(p);
            if (b.length >= 4) new DataView(b.buffer).setUint32((at % (b.length - 3)) & ~3, v, true);
            return b;
          }),
        ),
        (index, words, payload) => {
          const args = new Uint8Array(ARG_BYTES);
          const view = new DataView(args.buffer);
          view.setUint32(0, index, true);
          words.forEach((w, k) => view.setUint32(4 + k * 8, w >>> 0, true));
          let result;
          const t0 = performance.now();
          try {
            result = plugin.runHttpRequest({ requestHeaders: [["x-payload", payload], ["x-args", args]] });
            // Bounded time too: a hostile argument must not make the host itself run long.
            const ms = performance.now() - t0;
            assert.ok(ms < 1000, `${TARGETS[index].name}(${words.join(", ")}) took ${ms.toFixed(0)} ms`);
          } catch (e) {
            throw new Error(`${TARGETS[index].name}(${words.join(", ")}) threw into the caller: ${(e as Error).stack}`);
          }
          if (plugin.failed) {
            // Only a trap fails the VM, with cpp-host's message for the callback.
            assert.match(plugin.failure ?? "", /^Function: proxy_on_request_headers failed: /, TARGETS[index].name);
            failures++;
            plugin = createPlugin(wasm);
            plugin.start();
            return;
          }
          const said = messages(result.logs).at(-1) ?? "";
          assert.match(said, /^(\d+|void)$/, `${TARGETS[index].name}: ${JSON.stringify(messages(result.logs))}`);
          // The VM still works after whatever the call did.
          plugin.runHttpRequest({ requestHeaders: [["x-args", new Uint8Array(ARG_BYTES)]] });
          assert.equal(plugin.failed, false);
        },
      ),
      4000,
    );
    assert.ok(failures < 100, `${failures} traps`);
  });
});

describe("hostile modules: pairs buffers", () => {
  const setPairs = (pairs: Uint8Array) =>
    createPlugin(
      filter({
        imports: ["proxy_set_header_map_pairs", "proxy_get_header_map_size"],
        body: `${bytesData(1024, pairs)}
          ${onRequestHeaders(`(call $report (call $proxy_set_header_map_pairs (i32.const 0) (i32.const 1024) (i32.const ${pairs.length})))
          (call $report (call $proxy_get_header_map_size (i32.const 0) (i32.const 308)))
          (call $report (i32.load (i32.const 308)))`)}`,
      }),
    );
  const good = encodePairs([["a", "b"], ["cc", "dd"]]);
  const withU32 = (at: number, v: number) => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(at, v, true);
    return b;
  };
  const cases: [string, Uint8Array][] = [
    ["truncated by one byte", good.slice(0, -1)],
    ["truncated inside the sizes", good.slice(0, 10)],
    ["shorter than the count", good.slice(0, 3)],
    ["a count of 0xFFFFFFFF", withU32(0, 0xffffffff)],
    ["a count of 1025 (over PROXY_WASM_HOST_PAIRS_MAX_COUNT)", withU32(0, 1025)],
    ["a count larger than the sizes that follow", withU32(0, 3)],
    ["a key length that overflows 32 bits", withU32(4, 0xfffffffe)],
    ["a value length that overflows 32 bits", withU32(8, 0xffffffff)],
    ["a key NUL missing", (() => { const b = good.slice(); b[4 + 16 + 1] = 0x41; return b; })()],
    ["a value NUL missing", (() => { const b = good.slice(); b[4 + 16 + 3] = 0x41; return b; })()],
    ["trailing bytes", Uint8Array.from([...good, 0])],
  ];
  for (const [what, bytes] of cases) {
    it(`${what}: the map becomes empty (PairsUtil::toPairs), OK`, () => {
      const result = setPairs(bytes).runHttpRequest({ requestHeaders: [["x", "1"]] });
      assert.deepEqual(messages(result.logs), ["00", "00", "00"]);
      assert.deepEqual(result.upstreamRequest?.headers, []);
    });
  }
  it("a well-formed buffer replaces the map", () => {
    const result = setPairs(good).runHttpRequest();
    assert.deepEqual(result.upstreamRequest?.headers, [["a", "b"], ["cc", "dd"]]);
  });
  it("a buffer over PROXY_WASM_HOST_PAIRS_MAX_BYTES (1 MiB) or PAIRS_MAX_COUNT (1024) decodes as empty", () => {
    assert.deepEqual(decodePairs(encodePairs([["k", "v".repeat(1 << 20)]])), []);
    assert.deepEqual(decodePairs(encodePairs(Array.from({ length: 1025 }, (): [string, string] => ["k", "v"]))), []);
    assert.equal(decodePairs(encodePairs(Array.from({ length: 1024 }, (): [string, string] => ["k", "v"]))).length, 1024);
  });
});

describe("hostile modules: pointers, lengths and allocators", () => {
  const cases: [string, string, string][] = [
    ["proxy_log", "a message past the end of memory", `(call $report (call $proxy_log (i32.const 2) (i32.const ${MEMORY_BYTES - 2}) (i32.const 4)))`],
    ["proxy_log", "a length of 0xFFFFFFFF", `(call $report (call $proxy_log (i32.const 2) (i32.const 0) (i32.const -1)))`],
    ["proxy_get_header_map_value", "a key pointer of 0xFFFFFFFF", `(call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const -1) (i32.const 2) (i32.const 300) (i32.const 304)))`],
    ["proxy_get_header_map_value", "return pointers past the end", `(call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const ${MEMORY_BYTES - 2}) (i32.const 304)))`],
    ["proxy_add_header_map_value", "a value length past the end", `(call $report (call $proxy_add_header_map_value (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const 1024) (i32.const ${MEMORY_BYTES})))`],
    ["proxy_set_buffer_bytes", "data past the end", `(call $report (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) (i32.const ${MEMORY_BYTES - 1}) (i32.const 2)))`],
    ["proxy_get_property", "a path pointer of 0x80000000", `(call $report (call $proxy_get_property (i32.const 0x80000000) (i32.const 4) (i32.const 300) (i32.const 304)))`],
    ["proxy_set_shared_data", "a key past the end", `(call $report (call $proxy_set_shared_data (i32.const ${MEMORY_BYTES}) (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 0)))`],
    ["proxy_send_local_response", "a body past the end", `(call $report (call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.const ${MEMORY_BYTES - 1}) (i32.const 9) (i32.const 0) (i32.const 0) (i32.const -1)))`],
    ["proxy_http_call", "a token pointer past the end", `(call $report (call $proxy_http_call (i32.const 1024) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const ${MEMORY_BYTES})))`],
    ["proxy_define_metric", "a name of 0xFFFFFFF0 bytes", `(call $report (call $proxy_define_metric (i32.const 0) (i32.const 1024) (i32.const 0xfffffff0) (i32.const 300)))`],
  ];
  for (const [name, what, code] of cases) {
    it(`${name} with ${what}: InvalidMemoryAccess, the VM lives on`, () => {
      const plugin = createPlugin(filter({ imports: [name], body: `(data (i32.const 1024) "a") ${onRequestHeaders(code)}` }));
      const result = plugin.runHttpRequest({ requestHeaders: [["a", "1"]] });
      assert.deepEqual(messages(result.logs), ["06"]);
      assert.equal(plugin.failed, false);
      assert.equal(result.localResponse, null);
    });
  }

  for (const [what, malloc] of [
    ["returns 0", `(func (export "malloc") (param i32) (result i32) (i32.const 0))`],
    ["returns a pointer at the end of memory", `(func (export "malloc") (param i32) (result i32) (i32.const ${MEMORY_BYTES}))`],
    ["returns 0xFFFFFFFF", `(func (export "malloc") (param i32) (result i32) (i32.const -1))`],
  ] as const) {
    it(`an allocator that ${what}: hostcalls that return data answer InvalidMemoryAccess`, () => {
      const plugin = createPlugin(
        filter({
          imports: ["proxy_get_header_map_value", "proxy_get_header_map_pairs", "proxy_get_property", "proxy_get_buffer_bytes"],
          malloc,
          body: `${bytesData(1024, new TextEncoder().encode("a"))} ${bytesData(1032, new TextEncoder().encode("request\0path"))}
            ${onRequestHeaders(`(call $report (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 1) (i32.const 300) (i32.const 304)))
            (call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304)))
            (call $report (call $proxy_get_property (i32.const 1032) (i32.const 12) (i32.const 300) (i32.const 304)))`)}`,
        }),
      );
      const result = plugin.runHttpRequest({ requestHeaders: [["a", "1"]] });
      assert.deepEqual(messages(result.logs), ["06", "06", "06"]);
      assert.equal(plugin.failed, false);
    });
  }

  it("an allocator that traps fails the VM (cpp-host), the hostcall answers InvalidMemoryAccess, nothing throws", () => {
    const plugin = createPlugin(
      filter({
        imports: ["proxy_get_header_map_pairs"],
        malloc: `(func (export "malloc") (param i32) (result i32) (unreachable))`,
        body: onRequestHeaders(`(call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304)))`),
      }),
    );
    const result = plugin.runHttpRequest();
    assert.equal(plugin.failed, true);
    assert.match(plugin.failure ?? "", /^Function: malloc failed: Uncaught RuntimeError: unreachable/);
    assert.equal(result.localResponse?.status, 503);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503);
  });
});

describe("hostile modules: callbacks that trap, recurse or run long", () => {
  it("a trap fails the VM with the callback's name; fail-closed streams get 503, later ones too", () => {
    const plugin = createPlugin(filter({ body: onRequestHeaders("(unreachable)") }));
    const result = plugin.runHttpRequest();
    assert.equal(result.stopped, "vm_failed");
    assert.equal(result.localResponse?.status, 503);
    assert.equal(result.localResponse?.details, "wasm_fail_stream");
    assert.match(plugin.failure ?? "", /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503);
  });

  it("unbounded recursion is a trap (stack overflow), not a crash of the host", () => {
    const plugin = createPlugin(
      filter({
        body: `(func $deep (param $n i32) (result i32) (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
          (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $deep (i32.const 0)))`,
      }),
    );
    const result = plugin.runHttpRequest();
    assert.equal(result.stopped, "vm_failed");
    assert.match(plugin.failure ?? "", /^Function: proxy_on_request_headers failed: /);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503);
  });

  it("recursion through the host (a callback's hostcall calls malloc, which calls back in) is bounded by the stack and fails the VM", () => {
    const plugin = createPlugin(
      filter({
        imports: ["proxy_get_header_map_pairs"],
        malloc: `(func (export "malloc") (param $n i32) (result i32)
          (drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304))) (i32.const 4096))`,
        body: onRequestHeaders(`(call $report (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 300) (i32.const 304)))`),
      }),
    );
    let result;
    assert.doesNotThrow(() => (result = plugin.runHttpRequest()));
    // malloc runs under cpp-host's allocMemory restriction: proxy_get_header_map_pairs is not
    // allowed there, which traps ("restricted_callback") and fails the VM.
    assert.equal(plugin.failed, true);
    assert.match(plugin.failure ?? "", /restricted_callback/);
    assert.equal(result!.localResponse?.status, 503);
  });

  it("a callback that runs long finishes: Envoy has no deadline for Wasm, and neither does the host", () => {
    const plugin = createPlugin(
      filter({
        body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $i i32)
          (loop $spin (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $spin (i32.lt_u (local.get $i) (i32.const 50000000))))
          (call $report (i32.const 7)) (i32.const 0))`,
      }),
    );
    const result = plugin.runHttpRequest();
    assert.deepEqual(messages(result.logs), ["07"]);
    assert.equal(plugin.failed, false);
  });

  it("a trap in on_vm_start or on_configure fails the start with cpp-host's message; nothing throws", () => {
    for (const name of ["proxy_on_vm_start", "proxy_on_configure", "proxy_on_context_create", "_initialize"]) {
      const sig = name === "_initialize" ? "" : name === "proxy_on_context_create" ? "(param i32 i32)" : "(param i32 i32) (result i32)";
      const plugin = createPlugin(filter({ body: `(func (export "${name}") ${sig} (unreachable))` }));
      const start = plugin.start();
      assert.equal(start.ok, false, name);
      assert.match(start.error ?? "", new RegExp(`^Function: ${name} failed: Uncaught RuntimeError: unreachable`), name);
      assert.throws(() => plugin.runHttpRequest(), /the plugin did not start/);
    }
  });

  it("a trap inside a hostcall's callback into the module (on_http_call_response, on_tick, on_queue_ready) fails the VM without throwing", () => {
    const plugin = createPlugin(
      filter({
        imports: ["proxy_set_tick_period_milliseconds"],
        body: `(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
          (func (export "proxy_on_tick") (param i32) (unreachable))`,
      }),
      { now: 0 },
    );
    assert.equal(plugin.start().ok, true);
    assert.doesNotThrow(() => plugin.advanceTime(100));
    assert.match(plugin.failure ?? "", /^Function: proxy_on_tick failed/);
    assert.equal(plugin.runHttpRequest().localResponse?.status, 503);
  });
});
