// `inspect` reads images from registries; given a file (the module just built), it says so instead of
// looking the name up on Docker Hub (issue 15: first contact).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliMain } from "../devproxy/support.js";

describe("proxy-wasm-as inspect FILE", () => {
  it("names the file as a file and points at simulate, without reaching a registry", () => {
    const dir = mkdtempSync(join(tmpdir(), "pwas-inspect-file-"));
    writeFileSync(join(dir, "empty.wasm"), Buffer.from("0061736d01000000", "hex"));
    for (const arg of ["empty.wasm", "./empty.wasm", "missing.wasm"]) {
      const run = spawnSync(process.execPath, [cliMain, "inspect", arg], { cwd: dir, encoding: "utf8", timeout: 30_000 });
      assert.equal(run.status, 1, run.stdout);
      assert.equal(
        run.stderr,
        `proxy-wasm-as inspect: ${arg} names a file, not an image: inspect reads an image from a registry (e.g. ghcr.io/me/my-filter:v1). ` +
          `To load a .wasm as Envoy would: npx proxy-wasm-as simulate ${arg}\n`,
      );
    }
  });
});
