// `proxy-wasm-as test` runs node's test runner with a per-test timeout, so a test that waits for
// something that never comes fails instead of hanging.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

describe("proxy-wasm-as test", () => {
  it("passes --timeout to node --test: a test that never finishes fails after it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pwas-test-cmd-"));
    writeFileSync(join(dir, "waits.test.mjs"), `import { it } from "node:test";\nit("waits forever", () => new Promise(() => setInterval(() => {}, 1000)));\n`);
    const started = Date.now();
    const run = spawnSync(process.execPath, [main, "test", dir, "--no-build", "--timeout", "300"], { encoding: "utf8", timeout: 60_000 });
    assert.notEqual(run.status, 0);
    assert.match(run.stdout, /timed out after 300ms/);
    assert.ok(Date.now() - started < 30_000, "it did not hang");
    const bad = spawnSync(process.execPath, [main, "test", dir, "--no-build", "--timeout", "soon"], { encoding: "utf8" });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad --timeout 'soon'/);
  });
});
