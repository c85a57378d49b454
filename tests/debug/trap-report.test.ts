// A trap is seen where a test that fails after it is seen: the testing API writes each VM failure to stderr as
// it happens (Envoy logs it at error), and `node --test` shows that output with the failing test's.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { repoRoot } from "../support/plugins.js";
import { inlinedDir, inlinedSource, markerLine } from "./traps.js";

const SOURCE = "tests/filters/trap-inlined/assembly/index.ts";

/** Runs `node --test` on a scaffold-shaped test whose filter traps in an inlined handler; returns its output. */
function runScaffoldTest(options: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "trap-report-"));
  const file = join(dir, "filter.test.mjs");
  writeFileSync(
    file,
    `import assert from "node:assert/strict";
import { it } from "node:test";
import { createPlugin } from ${JSON.stringify(pathToFileURL(`${repoRoot}dist/host/index.js`).href)};

it("adds x-kind", () => {
  const plugin = createPlugin(${JSON.stringify(`${inlinedDir}/build/plugin.wasm`)}, { configuration: '{"value": "world"}'${options} });
  assert.equal(plugin.start().ok, true);
  const result = plugin.runHttpRequest({ responseHeaders: [[":status", "200"]] });
  assert.equal(result.downstreamResponse.headers.find(([k]) => k === "hello")?.[1], "world");
});
`,
  );
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // this file runs under node --test itself
  const run = spawnSync(process.execPath, ["--test", file], { cwd: repoRoot, env, encoding: "utf8", timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("trap report", () => {
  before(async () => {
    await build(inlinedDir, { quiet: true });
  });

  it("node --test shows the trap's source line beside the assertion that failed after it", () => {
    const { status, output } = runScaffoldTest("");
    assert.notEqual(status, 0, output);
    assert.match(output, /AssertionError|ERR_ASSERTION/);
    assert.equal(output.split("[proxy-wasm-as] plugin VM failed:").length - 1, 1, `once per failure:\n${output}`);
    assert.match(output, /critical: abort: Index out of range/);
    assert.ok(output.includes(`at onResponseHeaders (${SOURCE}:${markerLine("trap: index-out-of-range", inlinedSource)}:`), output);
  });

  it("reportFailures: false keeps it to the result's logs and plugin.failure", () => {
    const { status, output } = runScaffoldTest(", reportFailures: false");
    assert.notEqual(status, 0, output);
    assert.match(output, /AssertionError|ERR_ASSERTION/);
    assert.doesNotMatch(output, /plugin VM failed|Proxy-Wasm plugin in-VM backtrace/);
  });
});
