// The published tarball (npm pack's file list): what users run and nothing else, source maps that
// resolve inside it, every entry point present, and no script that runs when a user installs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8", env, timeout: 120_000 });
const files: string[] = pack.status === 0 ? (JSON.parse(pack.stdout)[0].files as { path: string }[]).map((f) => f.path) : [];
const shipped = new Set(files);

describe("the npm package", () => {
  it("packs", () => {
    assert.equal(pack.status, 0, pack.stderr);
    assert.ok(files.length > 50, `${files.length} files`);
  });

  it("ships no tests, benchmarks, soak runs or build output of examples", () => {
    const stray = files.filter((f) => /^dist\/(tests|bench|soak)\/|^(tests|bench|soak)\/|\/build\/|node_modules\//.test(f));
    assert.deepEqual(stray, []);
  });

  it("every source map points at sources the package ships", () => {
    const maps = files.filter((f) => f.endsWith(".map"));
    assert.ok(maps.length > 0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(repoRoot, map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const path = normalize(join(dirname(map), source));
        if (!shipped.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("ships every entry point: the bin, each export, the types", () => {
    const targets = [pkg.bin["proxy-wasm-as"], pkg.types];
    for (const value of Object.values(pkg.exports) as (string | Record<string, string>)[]) {
      targets.push(...(typeof value === "string" ? [value] : Object.values(value)));
    }
    const absent = targets.map((t: string) => normalize(t)).filter((t: string) => !shipped.has(t));
    assert.deepEqual(absent, []);
    for (const template of ["add-header", "authorizer", "http-auth", "rate-limit", "tcp"]) assert.ok(shipped.has(`templates/${template}/template.json`));
    assert.ok(shipped.has("examples/http-auth/assembly/index.ts"), "templates built from examples need their sources");
  });

  it("runs no script when installed (and none a user's npm would flag)", () => {
    const scripts = Object.keys(pkg.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s));
    assert.deepEqual(scripts, []);
  });
});
