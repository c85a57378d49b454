// `proxy-wasm-as --version` prints the package's version.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { cliMain } from "../devproxy/support.js";

describe("proxy-wasm-as --version", () => {
  it("prints the package version and exits 0, also as -V", () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const run = spawnSync(process.execPath, [cliMain, flag], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${version}\n`);
    }
  });
});
