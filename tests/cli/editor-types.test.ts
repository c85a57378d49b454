// Editors: every example's assembly/ type-checks against the SDK's declarations with AssemblyScript's types
// (tsc reports nothing), and a real mistake is reported. The scaffolds are checked in init.test.ts.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { typeErrors } from "./typecheck.js";

const examples = readdirSync(join(repoRoot, "examples")).sort();

describe("editor types", () => {
  it("the package resolves \"proxy-wasm-as\" to the SDK's declarations and /testing to the Node host's", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    assert.equal(pkg.exports["."].types, "./dist/sdk/index.d.ts");
    assert.equal(pkg.types, "./dist/sdk/index.d.ts");
    assert.equal(pkg.exports["./testing"].types, "./dist/host/index.d.ts");
    assert.equal(pkg.exports["./assembly/exports"].types, "./dist/sdk/assembly/exports.d.ts");
  });

  for (const example of examples) {
    it(`examples/${example}/assembly type-checks with no errors`, () => {
      assert.deepEqual(typeErrors(join(repoRoot, "examples", example, "assembly", "tsconfig.json")), []);
    });
  }

  it("in Node, \"proxy-wasm-as\" says to import proxy-wasm-as/testing", async () => {
    const sdk = "proxy-wasm-as"; // a variable: tsc would read the AssemblyScript declarations into the Node build
    await assert.rejects(import(sdk), /AssemblyScript SDK, compiled by asc into plugin\.wasm; in Node, import "proxy-wasm-as\/testing"/);
  });
});
