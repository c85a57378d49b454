// simulate's human-readable report (cli/format/simulate-text.ts) and when it is chosen.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { formatSimulateReport, printable, simulateOutput, type SimulateReport } from "../../cli/format/simulate-text.js";
import { createPlugin } from "../../host/index.js";
import { cliMain } from "../devproxy/support.js";
import { examplePlugin, repoRoot } from "../support/plugins.js";

function reportOf(token: string): SimulateReport {
  const plugin = createPlugin(examplePlugin("prime-authorizer"), { logLevel: "debug" });
  const start = plugin.start();
  const request = plugin.runHttpRequest({ requestHeaders: [[":path", "/x"], ["token", token]], responseHeaders: [[":status", "200"]] });
  return { start, requests: [request], metrics: [], sharedData: {} };
}

describe("simulate: human-readable report", () => {
  it("shows a local reply: the outcome, the phases, the reply's status and body, and the logs", () => {
    const text = formatSimulateReport(reportOf("15"));
    const lines = text.split("\n");
    assert.equal(lines[0], "start: ok");
    assert.ok(lines.includes("request 1: answered by the plugin with 403"), text);
    assert.ok(lines.includes("    request_headers (end of stream) → StopAllIterationAndWatermark"), text);
    assert.ok(lines.includes("  local reply: 403"), text);
    assert.ok(lines.includes("    body: Access forbidden."), text);
    assert.ok(lines.includes("  upstream request: none"), text);
    assert.ok(lines.includes("    [debug] prime-authorizer: request denied"), text);
  });

  it("shows the headers the upstream and the client saw as name: value lines", () => {
    const lines = formatSimulateReport(reportOf("13")).split("\n");
    assert.ok(lines.includes("request 1: passed through"));
    const upstream = lines.indexOf("  upstream request:");
    assert.ok(upstream > 0);
    for (const line of ["    :method: GET", "    :path: /x", "    token: 13"]) assert.ok(lines.slice(upstream).includes(line), line);
    assert.ok(lines.includes("  downstream response:"));
    assert.ok(lines.includes("    :status: 200"));
  });

  it("says why a plugin did not start", () => {
    const plugin = createPlugin(examplePlugin("http-auth"), { configuration: "{}" });
    const text = formatSimulateReport({ start: plugin.start(), requests: [], metrics: [], sharedData: {} });
    assert.match(text, /^start: failed: /);
    assert.match(text, /\[error\] invalid configuration: cluster: missing \(required: a non-empty string\)/);
  });

  it("escapes control characters from the plugin, so its text cannot drive the terminal", () => {
    assert.equal(printable("a\x1b[2Jb\r\nc\x7f"), "a\\x1b[2Jb\\x0d\\x0ac\\x7f");
  });

  it("is the default on a terminal only: --json, a pipe or a file get JSON", () => {
    assert.equal(simulateOutput({}, true), "text");
    assert.equal(simulateOutput({ json: true }, true), "json");
    assert.equal(simulateOutput({}, false), "json");
    assert.equal(simulateOutput({}, undefined), "json");
  });

  it("prints JSON through a pipe, as scripts expect, with or without --json", () => {
    for (const extra of [[], ["--json"]]) {
      const run = spawnSync(process.execPath, [cliMain, "simulate", `${repoRoot}examples/add-header/build/plugin.wasm`, ...extra], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).start.ok, true);
    }
  });
});
