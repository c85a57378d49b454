// Load-time checks that cpp-host/Envoy apply before a plugin can run.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkModule, createPlugin } from "../../host/index.js";
import { filter, wat } from "./support/wat.js";

const startError = (wasm: Uint8Array) => createPlugin(wasm).start().error;

describe("module checks (cpp-host load/link/getFunctions)", () => {
  it("accepts a minimal Envoy-ready module", () => {
    const check = checkModule(filter());
    assert.deepEqual(check.problems, []);
    assert.equal(check.ok, true);
    assert.equal(check.abiVersion, "0.2.1");
    assert.equal(createPlugin(filter()).start().ok, true);
  });

  it("refuses env.abort (AssemblyScript's default import) with Envoy's message", () => {
    const wasm = filter({ extraImports: `(import "env" "abort" (func (param i32 i32 i32 i32)))` });
    assert.equal(startError(wasm), "Failed to load Wasm module due to a missing import: env.abort");
  });

  it("refuses an unknown WASI import", () => {
    const wasm = filter({ extraImports: `(import "wasi_snapshot_preview1" "sock_open" (func (param i32) (result i32)))` });
    assert.equal(startError(wasm), "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.sock_open");
  });

  it("refuses an import whose type differs from the host's", () => {
    const wasm = filter({ abi: "0_2_1", extraImports: `(import "env" "proxy_done" (func (param i32) (result i32)))` });
    assert.equal(
      startError(wasm),
      "Failed to load Wasm module due to an import type mismatch: env.proxy_done, want: i32 -> i32, but host exports: void -> i32",
    );
  });

  it("refuses imported globals", () => {
    const wasm = filter({ extraImports: `(import "env" "g" (global i32))` });
    assert.equal(startError(wasm), "Failed to load Wasm module due to a missing import: env.g");
  });

  it("needs an ABI marker", () => {
    assert.match(startError(filter({ abi: null })) ?? "", /^Missing or unknown Proxy-Wasm ABI version/);
  });

  it("refuses ABI 0.1.0", () => {
    assert.match(startError(filter({ abi: "0_1_0" })) ?? "", /unsupported ABI version 0\.1\.0/);
  });

  it("accepts ABI 0.2.0 but does not offer it proxy_get_log_level (0.2.1 only)", () => {
    assert.equal(createPlugin(filter({ abi: "0_2_0" })).start().ok, true);
    const wasm = filter({ abi: "0_2_0", imports: ["proxy_get_log_level"] });
    assert.equal(startError(wasm), "Failed to load Wasm module due to a missing import: env.proxy_get_log_level");
  });

  it("needs malloc or proxy_on_memory_allocate", () => {
    assert.match(startError(filter({ malloc: null })) ?? "", /^Wasm module is missing malloc function/);
    const alt = filter({ malloc: `(func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))` });
    assert.equal(createPlugin(alt).start().ok, true);
  });

  it("checks the signature of known callbacks", () => {
    const wasm = filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))` });
    assert.equal(
      startError(wasm),
      "Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32",
    );
  });

  it("detects a start section: loadable as in cpp-host, with a warning", () => {
    const wasm = filter({ body: `(func $init) (start $init)` });
    const check = checkModule(wasm);
    assert.equal(check.hasStartSection, true);
    assert.equal(check.ok, true);
    assert.equal(check.warnings.length, 1);
    assert.equal(checkModule(filter()).hasStartSection, false);
    assert.deepEqual(checkModule(filter()).warnings, []);
  });

  it("reports a corrupted binary instead of throwing", () => {
    const check = checkModule(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 9));
    assert.equal(check.ok, false);
    assert.match(check.problems[0], /^Failed to parse corrupted Wasm module/);
    assert.equal(createPlugin(wat("(module)")).start().ok, false);
  });
});
