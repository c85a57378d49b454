// Typed configuration: the reader the transform generates for @configuration classes
// (tests/fixtures/config/typed), and the build errors for fields it cannot read (tests/fixtures/config/unsupported).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { createPlugin } from "../../host/index.js";
import { cliMain } from "../devproxy/support.js";
import { repoRoot } from "../support/plugins.js";

let typed: Uint8Array;
let unsupported: { status: number | null; stderr: string };

function failingBuild(path: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliMain, "build", path], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // asc colours its messages in some environments (CI=true) whatever NO_COLOR says: compare the text.
    child.on("close", (status) => resolve({ status, stderr: stderr.replace(/\x1b\[[0-9;]*m/g, "") }));
  });
}

before(async () => {
  const [built, failed] = await Promise.all([
    build(`${repoRoot}tests/fixtures/config/typed`, { quiet: true }),
    failingBuild(`${repoRoot}tests/fixtures/config/unsupported`),
  ]);
  typed = readFileSync(built.path);
  unsupported = failed;
});

function start(configuration: string) {
  const result = createPlugin(typed, { configuration }).start();
  return { ok: result.ok, lines: result.logs.filter((entry) => entry.level === "info" || entry.level === "error").map((entry) => entry.message) };
}

const MINIMAL = '"name": "a", "upstream": {"cluster": "c"}';

describe("typed configuration: the generated reader", () => {
  it("keeps the declared defaults for absent fields", () => {
    assert.deepEqual(start(`{${MINIMAL}}`), {
      ok: true,
      lines: ["name=a enabled=true offset=0 limit=10 ratio=0.5 scale=1.0 keys=default cluster=c timeoutMs=500"],
    });
  });

  it("reads every field type, at the edges of their ranges", () => {
    const configuration = '{"name": "a", "enabled": false, "offset": -5, "limit": 18446744073709551615, "ratio": 1, "scale": -2.5e3, ' +
      '"keys": ["x", "y"], "upstream": {"cluster": "c", "timeoutMs": 60000}}';
    assert.deepEqual(start(configuration), {
      ok: true,
      lines: ["name=a enabled=false offset=-5 limit=18446744073709551615 ratio=1.0 scale=-2500.0 keys=x|y cluster=c timeoutMs=60000"],
    });
  });

  it("refuses with one error line naming the field's path and what was expected", () => {
    const cases: [string, string][] = [
      ["{}", "name: missing (required: a string)"],
      ['{"name": "a"}', "upstream.cluster: missing (required: a non-empty string)"],
      ['{"name": "a", "upstream": "c"}', "upstream: expected an object, got a string"],
      ['{"name": "a", "upstream": {"cluster": "c", "timeoutMs": 0}}', "upstream.timeoutMs: expected an integer from 1 to 60000, got 0"],
      ['{"name": "a", "upstream": {"cluster": "c", "extra": 1}}', "upstream.extra: unknown field (expected one of: cluster, timeoutMs)"],
      [`{${MINIMAL}, "offset": 6}`, "offset: expected an integer from -5 to 5, got 6"],
      [`{${MINIMAL}, "limit": -1}`, "limit: expected an integer from 0 to 18446744073709551615, got -1"],
      [`{${MINIMAL}, "keys": []}`, "keys: expected a non-empty array of strings, got an array"],
      [`{${MINIMAL}, "keys": [1, 2]}`, "keys[0]: expected a string, got 1"],
      [`{${MINIMAL}, "ratio": 1.5}`, "ratio: expected a number from 0 to 1, got 1.5"],
      [`{${MINIMAL}, "enabled": "yes"}`, "enabled: expected true or false, got a string"],
      [`{${MINIMAL}, "VERSION": 2}`, "VERSION: unknown field (expected one of: name, enabled, offset, limit, ratio, scale, keys, upstream, wide)"],
      [`{${MINIMAL}, "name": "b"}`, "name: given more than once"],
      [`{${MINIMAL}, "wide": {"f33": true, "f33": false}}`, "wide.f33: given more than once"],
      [`{${MINIMAL}, "wide": {"f0": true, "f32": 1}}`, "wide.f32: expected true or false, got 1"],
      // The first problem in document order; a missing required field after every member.
      ['{"upstream": {"cluster": 1}, "VERSION": 2}', "upstream.cluster: expected a non-empty string, got 1"],
      ['{"VERSION": 2}', "VERSION: unknown field (expected one of: name, enabled, offset, limit, ratio, scale, keys, upstream, wide)"],
      ["[]", "expected a JSON object, got an array"],
      ['{"name": }', "invalid JSON: unexpected character at 9"],
    ];
    for (const [configuration, problem] of cases) {
      assert.deepEqual(start(configuration), { ok: false, lines: [`invalid configuration: ${problem}`] }, configuration);
    }
  });
});

describe("typed configuration: fields the reader cannot read fail the build", () => {
  it("names each field and why, at its line", () => {
    assert.equal(unsupported.status, 1);
    const errors = unsupported.stderr.split("\n").filter((line) => line.startsWith("ERROR"));
    assert.deepEqual(errors.map((line) => line.replace(/^ERROR AS109: Transform 'proxy-wasm-as': /, "")), [
      "@configuration field 'when': type Date is not one the reader knows (string, bool, i8 to i64, u8 to u64, f32, f64, string[], JsonValue, or another @configuration class)",
      "@configuration field 'plain': type Plain is not one the reader knows (string, bool, i8 to i64, u8 to u64, f32, f64, string[], JsonValue, or another @configuration class)",
      "@configuration field 'label': @range applies to a number",
      "@configuration field 'fixed': is readonly: the reader assigns it",
    ]);
    assert.match(unsupported.stderr, /in assembly\/index\.ts\(11,3\)/);
  });
});
