// What a plugin carries: only the SDK code and data its filter uses. Sizes are deterministic for the pinned
// asc, so these are exact checks, not timings; issue 6's size target is pinned here as well as benchmarked.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { examplePlugin, repoRoot } from "../support/plugins.js";

/** Whether `wasm` holds `text` as an AssemblyScript string literal (UTF-16LE). */
function holdsString(wasm: Uint8Array, text: string): boolean {
  return Buffer.from(wasm).includes(Buffer.from(text, "utf16le"));
}

/** Whether `wasm` holds `text` as UTF-8, as the SDK keeps its messages (staticUtf8). */
function holdsUtf8(wasm: Uint8Array, text: string): boolean {
  return Buffer.from(wasm).includes(Buffer.from(text, "utf8"));
}

let noHooks: Uint8Array;

before(async () => {
  const result = await build(`${repoRoot}tests/fixtures/exports/no-hooks`, { quiet: true });
  noHooks = readFileSync(result.path);
});

describe("plugin footprint", () => {
  it("add-header, JSON configuration included, is within 8,192 bytes", () => {
    const size = examplePlugin("add-header").byteLength;
    assert.ok(size <= 8192, `${size} bytes`);
  });

  it("a filter that parses no JSON carries none of the parser's messages", () => {
    assert.equal(holdsUtf8(noHooks, "nesting too deep"), false);
    assert.equal(holdsUtf8(examplePlugin("add-header"), "nesting too deep"), true);
    assert.equal(holdsString(examplePlugin("add-header"), "nesting too deep"), false, "the messages are UTF-8, not string literals");
  });

  it("a module with one root context carries no lookup by root id", () => {
    for (const wasm of [noHooks, examplePlugin("add-header")]) assert.equal(holdsString(wasm, "plugin_root_id"), false);
    assert.equal(holdsString(examplePlugin("queue"), "plugin_root_id"), true);
  });
});
