// `proxy-wasm-as init`: each template scaffolded into a temp folder, then the scaffold's own
// `npm install`, `npm test` and `npm run build`, as a new user would run them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { cliMain } from "../devproxy/support.js";
import { dependencySpec } from "../../cli/commands/init.js";

const root = mkdtempSync(join(tmpdir(), "pwas-init-"));
const cli = (args: string[], cwd = root) => spawnSync(process.execPath, [cliMain, ...args], { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
// Without NODE_TEST_CONTEXT, which would make the scaffold's `node --test` report to this runner.
const { NODE_TEST_CONTEXT: _unused, ...env } = process.env;
const npm = (args: string[], cwd: string) =>
  spawnSync("npm", [...args], { cwd, encoding: "utf8", timeout: 180_000, env: { ...env, NO_COLOR: "1", npm_config_audit: "false", npm_config_fund: "false" } });

describe("proxy-wasm-as init", () => {
  it("scaffolds without asking when not on a terminal; the dependency is this checkout", () => {
    const run = cli(["init", "plain", "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.template, "add-header");
    assert.equal(result.name, "plain");
    assert.equal(result.dependency, `file:${repoRoot.replace(/\/$/, "")}`);
    assert.deepEqual(result.files, [".gitignore", "README.md", "asconfig.json", "assembly/index.ts", "package.json", "test/filter.test.mjs"]);
    const pkg = JSON.parse(readFileSync(join(root, "plain", "package.json"), "utf8"));
    assert.equal(pkg.scripts.test, "proxy-wasm-as build && node --test");
    assert.equal(pkg.scripts.build, "proxy-wasm-as build");
    assert.match(pkg.scripts.start, /^proxy-wasm-as run build\/plugin\.wasm --watch/);
    const asconfig = JSON.parse(readFileSync(join(root, "plain", "asconfig.json"), "utf8"));
    assert.equal(asconfig.extends, "./node_modules/proxy-wasm-as/asconfig.json");
    assert.doesNotMatch(readFileSync(join(root, "plain", "assembly", "index.ts"), "utf8"), /\{\{/);
    assert.doesNotMatch(readFileSync(join(root, "plain", "README.md"), "utf8"), /\{\{/);
  });

  it("depends on the registry version when installed from the registry", () => {
    const installed = join(root, "app", "node_modules", "proxy-wasm-as");
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "proxy-wasm-as", version: "9.8.7" }));
    assert.equal(dependencySpec(installed), "9.8.7");
    assert.equal(dependencySpec(repoRoot.replace(/\/$/, "")), `file:${repoRoot.replace(/\/$/, "")}`);
  });

  it("refuses a folder that is not empty and an unknown template, with one line", () => {
    writeFileSync(join(root, "file.txt"), "x");
    let run = cli(["init", "."]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^proxy-wasm-as init: \. exists and is not an empty folder\n$/);
    run = cli(["init", "other", "--template", "nope"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /unknown template 'nope': one of add-header, authorizer, http-auth, rate-limit, tcp/);
  });

  for (const template of ["add-header", "authorizer", "http-auth", "rate-limit", "tcp"]) {
    it(`${template}: npm install && npm test && npm run build in the scaffold`, { timeout: 400_000 }, () => {
      const dir = join(root, `my-${template}`);
      const init = cli(["init", dir, "--template", template, "--yes"]);
      assert.equal(init.status, 0, init.stderr);
      assert.match(init.stdout, /npm install/);
      const install = npm(["install", "--offline", "--no-audit", "--no-fund"], dir);
      assert.equal(install.status, 0, install.stderr);
      const test = npm(["test"], dir);
      assert.equal(test.status, 0, `${test.stdout}\n${test.stderr}`);
      assert.match(test.stdout, /# fail 0/);
      const build = npm(["run", "build"], dir);
      assert.equal(build.status, 0, build.stderr);
      assert.match(build.stdout, /build\/plugin\.wasm {2}[\d,]+ bytes {2}Envoy-ready/);
      assert.ok(existsSync(join(dir, "build", "plugin.wasm")));
    });
  }
});
