// `proxy-wasm-as build`: output, --json, and a module Envoy would not load failing the build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { cliMain } from "../devproxy/support.js";

const cli = (args: string[]) => spawnSync(process.execPath, [cliMain, ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });

describe("proxy-wasm-as build", () => {
  it("builds an example with the preset and says it is Envoy-ready (--json)", () => {
    const run = cli(["build", join(repoRoot, "examples", "add-header"), "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.match(result.path, /examples\/add-header\/build\/plugin\.wasm$/);
    assert.ok(result.bytes > 1000);
    assert.equal(result.envoyReady, true);
    assert.equal(result.abiVersion, "0.2.1");
    assert.deepEqual(result.problems, []);
  });

  it("fails a module that is not Envoy-ready, with the reason", () => {
    const dir = mkdtempSync(join(tmpdir(), "pwas-build-"));
    mkdirSync(join(dir, "assembly"));
    writeFileSync(join(dir, "assembly", "index.ts"), "export function answer(): i32 { return 42; }\n");
    writeFileSync(join(dir, "asconfig.json"), JSON.stringify({ entries: ["assembly/index.ts"], targets: { release: { outFile: "build/plugin.wasm" } } }));
    const run = cli(["build", dir]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /NOT Envoy-ready/);
    assert.match(run.stdout, /✗ Missing or unknown Proxy-Wasm ABI version/);
    assert.match(run.stderr, /proxy-wasm-as build: .*build\/plugin\.wasm is not Envoy-ready: Missing or unknown Proxy-Wasm ABI version/);
  });

  it("fails with one line where there is no project", () => {
    const run = cli(["build", tmpdir()]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^proxy-wasm-as build: no asconfig\.json in .*\n$/);
  });

  it("reports compile errors from asc", () => {
    const dir = mkdtempSync(join(tmpdir(), "pwas-build-"));
    mkdirSync(join(dir, "assembly"));
    writeFileSync(join(dir, "assembly", "index.ts"), "export function broken(): i32 { return nope; }\n");
    writeFileSync(join(dir, "asconfig.json"), JSON.stringify({ extends: join(repoRoot, "asconfig.json"), entries: ["assembly/index.ts"] }));
    const run = cli(["build", dir]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /Cannot find name 'nope'/);
    assert.match(run.stderr, /proxy-wasm-as build: asc failed: \d+ compile error\(s\)\n$/);
  });
});
