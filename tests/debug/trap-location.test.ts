// A trap in a callback names the AssemblyScript function, file:line:column and the call chain, from the source map
// `build` writes next to the module (release and debug); a foreign module gets its name section's names, as
// Envoy's in-VM backtrace does.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import wabtInit from "wabt";
import { build } from "../../cli/commands/build.js";
import { createPlugin } from "../../host/index.js";
import { envImport } from "../host/support/wat.js";
import { inlinedDir, inlinedSource, markerLine, trapsDir } from "./traps.js";

const release = `${trapsDir}/build/plugin.wasm`;
const debug = `${trapsDir}/build/debug.wasm`;
const SOURCE = "tests/filters/traps/assembly/index.ts";
const INLINED = `${inlinedDir}/build/plugin.wasm`;
const INLINED_SOURCE = "tests/filters/trap-inlined/assembly/index.ts";

const KINDS = [
  { kind: "unreachable", trap: "RuntimeError: unreachable", marker: "trap: unreachable" },
  { kind: "out-of-bounds", trap: "RuntimeError: memory access out of bounds", marker: "trap: out-of-bounds" },
  { kind: "divide-by-zero", trap: "RuntimeError: divide by zero", marker: "trap: divide-by-zero" },
  { kind: "stack-overflow", trap: "RangeError: Maximum call stack size exceeded", marker: "trap: stack-overflow" },
  { kind: "abort", trap: "RuntimeError: unreachable", marker: "trap: abort" },
];

/** The scaffold's `value` with no comma: its `parts[1]` is out of range. */
const NO_COMMA = '{"value": "world"}';

/** Runs one request through a plugin configured to trap; returns its VM failure and the request's logs. */
function trap(wasm: string | Uint8Array, kind: string, sourceMap?: string) {
  const plugin = createPlugin(wasm, { configuration: kind, sourceMap, callbackDeadlineMs: 0, reportFailures: false });
  assert.equal(plugin.start().ok, true);
  const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/"]], responseHeaders: [[":status", "200"]] });
  assert.equal(result.stopped, "vm_failed");
  return { failure: plugin.failure ?? "", logs: result.logs.map((l) => l.message) };
}

/** `  at NAME (FILE:LINE:COL)`: the filter's own frame. */
function headline(failure: string): { name: string; file: string; line: number; column: number } {
  const m = /^ {2}at (\S+) \((.+):(\d+):(\d+)\)$/m.exec(failure);
  assert.ok(m, `no source location in:\n${failure}`);
  return { name: m[1], file: m[2], line: Number(m[3]), column: Number(m[4]) };
}

function backtrace(failure: string): string[] {
  const lines = failure.split("\n");
  const start = lines.indexOf("Proxy-Wasm plugin in-VM backtrace:");
  assert.ok(start > 0, `no backtrace in:\n${failure}`);
  return lines.slice(start + 1).filter((l) => /^ *\d+: {2}0x[0-9a-f]+ - /.test(l));
}

describe("trap locations", () => {
  before(async () => {
    // npm test builds the release module; the debug one is built here (nothing to do when it is up to date).
    await build(trapsDir, { quiet: true });
    await build(trapsDir, { target: "debug", quiet: true });
    await build(inlinedDir, { quiet: true });
    await build(inlinedDir, { target: "debug", quiet: true });
  });

  for (const { kind, trap: message, marker } of KINDS) {
    it(`release: ${kind} names the source line of the trap, in the failure and the VM's failure log`, () => {
      const { failure, logs } = trap(release, kind);
      assert.match(failure, new RegExp(`^Function: proxy_on_request_headers failed: Uncaught ${message}\n`));
      const at = headline(failure);
      assert.equal(at.file, SOURCE);
      assert.equal(at.line, markerLine(marker));
      assert.ok(at.column > 1);
      assert.ok(logs.includes(failure), "the failure is in the request's logs as Envoy logs it");
      const frames = backtrace(failure);
      // The chain ends where the host called in, the SDK's export (a stack overflow's chain is cut at V8's limit).
      if (kind === "stack-overflow") assert.match(failure, /\.\.\. \(V8 keeps \d+ frames/);
      else assert.match(frames.at(-1)!, / - proxy_on_request_headers \(.*assembly\/exports\.ts:\d+:\d+\)$/);
    });

    it(`debug: ${kind} names the function and each caller, innermost first`, () => {
      const { failure } = trap(debug, kind);
      const at = headline(failure);
      assert.equal(at.line, markerLine(marker));
      assert.equal(at.name, kind === "stack-overflow" ? "recurse" : "trapBy");
      const frames = backtrace(failure);
      if (kind === "stack-overflow") {
        assert.ok(frames.filter((f) => f.includes(` - recurse (${SOURCE}:${markerLine(marker)}:`)).length >= 5, failure);
        return;
      }
      const names = frames.map((f) => / - (\S+)/.exec(f)![1]);
      const own = names.indexOf("trapBy");
      assert.ok(own >= 0, failure);
      assert.equal(names[own + 1], "TrapStream#onRequestHeaders");
      assert.ok(frames[own + 1].endsWith(`(${SOURCE}:${markerLine("trap: caller")}:5)`), frames[own + 1]);
      assert.equal(names.at(-1), "proxy_on_request_headers");
      if (kind === "abort") assert.equal(names[0], "proxyWasmAbort");
    });
  }

  // Release: binaryen inlines the small handler and std's array access into the SDK's dispatcher, so the trapping
  // instruction maps to ~lib/array.ts and every frame is the SDK's or the standard library's.
  it("release: a trap inlined into library code names the filter's nearest line, and says so", () => {
    const { failure } = trap(INLINED, NO_COMMA);
    assert.match(failure, /^Function: proxy_on_response_headers failed: Uncaught RuntimeError: unreachable\n/);
    const at = headline(failure);
    assert.equal(at.file, INLINED_SOURCE);
    assert.equal(at.line, markerLine("trap: index-out-of-range", inlinedSource));
    assert.match(failure, /\n {2}\(the nearest line of the filter's own code: the optimizer inlined it into ~lib\/array\.ts:\d+:\d+, where it trapped; `proxy-wasm-as build --target debug` gives exact lines\)\n/);
  });

  it("debug: the same trap names its exact line, with no heuristic", () => {
    const { failure } = trap(`${inlinedDir}/build/debug.wasm`, NO_COMMA);
    const at = headline(failure);
    assert.equal(at.file, INLINED_SOURCE);
    assert.equal(at.line, markerLine("trap: index-out-of-range", inlinedSource));
    assert.doesNotMatch(failure, /nearest line/);
  });

  it("release: when no line of the filter's own code is left, the failure points to a debug build", () => {
    // The same map with the filter's source on the ignore list: nothing of the filter's own code remains.
    const map = JSON.parse(readFileSync(`${INLINED}.map`, "utf8")) as { sources: string[]; x_google_ignoreList?: number[] };
    const own = map.sources.indexOf("../assembly/index.ts");
    assert.ok(own >= 0, "the map names the filter's source");
    map.x_google_ignoreList = [...(map.x_google_ignoreList ?? []), own];
    const path = join(mkdtempSync(join(tmpdir(), "traps-")), "plugin.wasm.map");
    writeFileSync(path, JSON.stringify(map));
    const { failure } = trap(readFileSync(INLINED), NO_COMMA, path);
    assert.match(failure, /\n {2}at \S+ \(.*:\d+:\d+\)\n {2}\(no line of the filter's own code is left in this build: `proxy-wasm-as build --target debug` gives exact lines\)\n/);
    assert.doesNotMatch(failure, /assembly\/index\.ts/);
  });

  it("a map that is not a regular file (here /dev/zero) is not read: the plugin starts, its traps go without lines", () => {
    // In a child with a time limit: reading /dev/zero would never end, and a hang must fail, not stall the run.
    const host = new URL("../../host/index.js", import.meta.url).href;
    const script = `const { createPlugin } = await import(${JSON.stringify(host)});
      const p = createPlugin(process.argv[1], { configuration: "unreachable", sourceMap: "/dev/zero", callbackDeadlineMs: 0, reportFailures: false });
      console.log(JSON.stringify({ ok: p.start().ok, stopped: p.runHttpRequest({ responseHeaders: [[":status", "200"]] }).stopped, failure: p.failure }));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, release], { encoding: "utf8", timeout: 30_000 });
    assert.equal(child.signal, null, `the child hung reading the map: ${child.stderr}`);
    const out = JSON.parse(child.stdout) as { ok: boolean; stopped: string; failure: string };
    assert.equal(out.ok, true);
    assert.equal(out.stopped, "vm_failed");
    assert.doesNotMatch(out.failure, /assembly\/index\.ts/);
  });

  it("a module given as bytes finds its map through the sourceMap option", () => {
    const bytes = readFileSync(release);
    assert.doesNotMatch(trap(bytes, "unreachable").failure, /\n {2}at /, "release has no name section and no map was given: like Envoy, no backtrace");
    assert.equal(headline(trap(bytes, "unreachable", `${release}.map`).failure).line, markerLine("trap: unreachable"));
  });
});

const wabt = await wabtInit();

describe("foreign modules", () => {
  // Shaped like a Rust SDK filter: its name section names functions by their Rust paths.
  const source = `(module
    ${envImport("proxy_log")}
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func $my_filter::Filter::ratio (param $n i32) (result i32) (i32.div_u (i32.const 100) (local.get $n)))
    (func $my_filter::Filter::on_http_request_headers (param i32 i32) (result i32) (call $my_filter::Filter::ratio (i32.const 0)))
    (func $proxy_wasm::dispatcher::on_http_request_headers (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $my_filter::Filter::on_http_request_headers (local.get 1) (local.get 2))))`;
  const compile = (names: boolean) => {
    const module = wabt.parseWat("filter.wat", source);
    try {
      return new Uint8Array(module.toBinary({ write_debug_names: names }).buffer);
    } finally {
      module.destroy();
    }
  };
  const failureOf = (bytes: Uint8Array) => {
    const plugin = createPlugin(bytes, { callbackDeadlineMs: 0, reportFailures: false });
    assert.equal(plugin.start().ok, true);
    plugin.runHttpRequest({ requestHeaders: [[":path", "/"]] });
    return plugin.failure ?? "";
  };

  it("a name section gives Envoy's in-VM backtrace with each frame's function", () => {
    const failure = failureOf(compile(true));
    const lines = failure.split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: divide by zero");
    assert.equal(lines[1], "Proxy-Wasm plugin in-VM backtrace:");
    assert.deepEqual(
      lines.slice(2).map((l) => l.replace(/0x[0-9a-f]+/, "0x_")),
      [
        "  0:  0x_ - my_filter::Filter::ratio",
        "  1:  0x_ - my_filter::Filter::on_http_request_headers",
        "  2:  0x_ - proxy_wasm::dispatcher::on_http_request_headers",
      ],
    );
  });

  it("without names or a map there is no backtrace, as in Envoy", () => {
    assert.equal(failureOf(compile(false)), "Function: proxy_on_request_headers failed: Uncaught RuntimeError: divide by zero");
  });
});
