// Common mistakes fail the build with one message that says what to do (fixtures in tests/fixtures/errors/).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { before, describe, it } from "node:test";
import { cliMain } from "../devproxy/support.js";
import { repoRoot } from "../support/plugins.js";

interface Build { status: number | null; stderr: string }

function buildFixture(name: string): Promise<Build> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliMain, "build", `${repoRoot}tests/fixtures/errors/${name}`], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // asc colours its messages in some environments (CI=true) whatever NO_COLOR says: compare the text.
    child.on("close", (status) => resolve({ status, stderr: stderr.replace(/\x1b\[[0-9;]*m/g, "") }));
  });
}

const builds = new Map<string, Build>();

before(async () => {
  const names = ["no-exports", "host-apis"];
  const results = await Promise.all(names.map(buildFixture));
  names.forEach((name, i) => builds.set(name, results[i]));
});

function errorsOf(build: Build): string[] {
  return build.stderr.split("\n").filter((line) => line.startsWith("ERROR"));
}

describe("build errors that say what to do", () => {
  it("an entry file without the ABI's export line: one error naming the line to add", () => {
    const build = builds.get("no-exports")!;
    assert.equal(build.status, 1);
    assert.deepEqual(errorsOf(build), [
      `ERROR AS109: Transform 'proxy-wasm-as': the filter does not export the Proxy-Wasm ABI: add this line to assembly/index.ts: export * from "proxy-wasm-as/assembly/exports";`,
    ]);
  });

  it("each std API that would import from a JavaScript host names the SDK call to use instead, where it is used", () => {
    const build = builds.get("host-apis")!;
    assert.equal(build.status, 1);
    const errors = errorsOf(build);
    const expected: [string, RegExp, string][] = [
      ["Date.now()", /use getCurrentTimeNanoseconds\(\)/, "index.ts(14,"],
      ["console.log()", /use log\.info\(message\)/, "index.ts(15,"],
      ["console.warn()", /use log\.warn\(message\)/, "index.ts(16,"],
      ["trace()", /use log\.trace\(message\)/, "index.ts(17,"],
      ["performance.now()", /use getCurrentTimeNanoseconds\(\)/, "index.ts(18,"],
      ["process.exit()", /return false from onConfigure or onVmStart/, "index.ts(19,"],
      ["crypto.getRandomValues()", /use Math\.random\(\)/, "index.ts(20,"],
    ];
    assert.equal(errors.length, expected.length, build.stderr);
    for (const [api, instead, where] of expected) {
      const error = errors.find((line) => line.includes(` ${api} `) || line.includes(`: ${api}`));
      assert.ok(error, `${api} in\n${build.stderr}`);
      assert.match(error, /which Envoy does not offer/);
      assert.match(error, instead);
      assert.ok(build.stderr.includes(`in assembly/${where}`), `${api} at ${where}`);
    }
    // The build stops at the first of these, before the Envoy-ready check's bare "missing import".
    assert.doesNotMatch(build.stderr, /missing import/);
  });
});
