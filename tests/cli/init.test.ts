// `proxy-wasm-as init`: each template scaffolded into a temp folder (with --sdk: this checkout), then the
// scaffold's own `npm install`, its type-check as an editor sees it, `npm test` and `npm run build`, as a new
// user would run them. tests/cli/registry-install.test.ts does the same from a registry.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { cliMain } from "../devproxy/support.js";
import { typeErrors } from "./typecheck.js";

const sdk = repoRoot.replace(/\/$/, "");
const { version, devDependencies } = JSON.parse(readFileSync(join(sdk, "package.json"), "utf8"));
const root = mkdtempSync(join(tmpdir(), "pwas-init-"));
const cli = (args: string[], cwd = root) => spawnSync(process.execPath, [cliMain, ...args], { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
// Without NODE_TEST_CONTEXT, which would make the scaffold's `node --test` report to this runner.
const { NODE_TEST_CONTEXT: _unused, ...env } = process.env;
const npm = (args: string[], cwd: string) =>
  spawnSync("npm", [...args], { cwd, encoding: "utf8", timeout: 180_000, env: { ...env, NO_COLOR: "1", npm_config_audit: "false", npm_config_fund: "false" } });

describe("proxy-wasm-as init", () => {
  it("scaffolds without asking when not on a terminal; the dependency is ^ this SDK's version", () => {
    const run = cli(["init", "plain", "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.template, "add-header");
    assert.equal(result.name, "plain");
    assert.equal(result.dependency, `^${version}`);
    assert.deepEqual(result.files, [
      ".gitignore", ".vscode/launch.json", "README.md", "asconfig.json", "assembly/index.ts", "assembly/tsconfig.json", "package.json", "test/filter.test.mjs", "tsconfig.json",
    ]);
    const pkg = JSON.parse(readFileSync(join(root, "plain", "package.json"), "utf8"));
    assert.deepEqual(pkg.dependencies, { "proxy-wasm-as": `^${version}` });
    assert.deepEqual(pkg.devDependencies, { "@types/node": devDependencies["@types/node"] });
    assert.equal(pkg.scripts.test, "proxy-wasm-as build && node --test");
    assert.equal(pkg.scripts.build, "proxy-wasm-as build");
    assert.match(pkg.scripts.start, /^proxy-wasm-as run build\/plugin\.wasm --watch/);
    const asconfig = JSON.parse(readFileSync(join(root, "plain", "asconfig.json"), "utf8"));
    assert.equal(asconfig.extends, "./node_modules/proxy-wasm-as/asconfig.json");
    const tsconfig = JSON.parse(readFileSync(join(root, "plain", "assembly", "tsconfig.json"), "utf8"));
    assert.equal(tsconfig.extends, "proxy-wasm-as/tsconfig.assembly.json");
    assert.doesNotMatch(readFileSync(join(root, "plain", "assembly", "index.ts"), "utf8"), /\{\{/);
    const launch = JSON.parse(readFileSync(join(root, "plain", ".vscode", "launch.json"), "utf8")) as { configurations: { runtimeArgs: string[] }[] };
    assert.deepEqual(
      launch.configurations.map((c) => c.runtimeArgs.slice(0, 2).concat(c.runtimeArgs.filter((a) => a === "--inspect"))),
      [["proxy-wasm-as", "test", "--inspect"], ["proxy-wasm-as", "run", "--inspect"]],
    );
    const readme = readFileSync(join(root, "plain", "README.md"), "utf8");
    assert.doesNotMatch(readme, /\{\{/);
    assert.doesNotMatch(readme, /incremental GC|npmjs\.com/);
  });

  it("--sdk PATH depends on that checkout; a folder that is not the SDK is refused", () => {
    let run = cli(["init", "dev", "--sdk", sdk, "--json"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).dependency, `file:${sdk}`);
    run = cli(["init", "dev2", "--sdk", join(sdk, "examples", "add-header")]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^proxy-wasm-as init: --sdk .*: that package is "add-header", not proxy-wasm-as\n$/);
    run = cli(["init", "dev3", "--sdk", tmpdir()]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no package\.json there/);
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
      const init = cli(["init", dir, "--template", template, "--sdk", sdk, "--yes"]);
      assert.equal(init.status, 0, init.stderr);
      assert.match(init.stdout, /npm install/);
      const install = npm(["install", "--offline", "--no-audit", "--no-fund"], dir);
      assert.equal(install.status, 0, install.stderr);
      // An editor: the SDK's types in assembly/, Node's and proxy-wasm-as/testing's in test/, no false errors...
      assert.deepEqual(typeErrors(join(dir, "assembly", "tsconfig.json")), []);
      assert.deepEqual(typeErrors(join(dir, "tsconfig.json")), []);
      // ...and real mistakes reported: a name the SDK lacks, a wrong argument to an SDK call, a typo in a test.
      const entry = join(dir, "assembly", "index.ts");
      const source = readFileSync(entry, "utf8");
      appendFileSync(entry, 'import { NoSuchThing, log as sdkLog } from "proxy-wasm-as";\nexport function typo(): void { sdkLog.info(42); }\n');
      const errors = typeErrors(join(dir, "assembly", "tsconfig.json")).join("\n");
      assert.match(errors, /TS2305: Module '"proxy-wasm-as"' has no exported member 'NoSuchThing'/);
      assert.match(errors, /TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
      writeFileSync(entry, source);
      const test = join(dir, "test", "filter.test.mjs");
      const testSource = readFileSync(test, "utf8");
      appendFileSync(test, 'createPlugin(wasm).runHttpRequst();\n');
      assert.match(typeErrors(join(dir, "tsconfig.json")).join("\n"), /TS2551: Property 'runHttpRequst' does not exist on type 'Plugin'/);
      writeFileSync(test, testSource);
      const npmTest = npm(["test"], dir);
      assert.equal(npmTest.status, 0, `${npmTest.stdout}\n${npmTest.stderr}`);
      assert.match(npmTest.stdout, /# fail 0/);
      const build = npm(["run", "build"], dir);
      assert.equal(build.status, 0, build.stderr);
      assert.match(build.stdout, /build\/plugin\.wasm {2}[\d,]+ bytes {2}Envoy-ready/);
      assert.ok(existsSync(join(dir, "build", "plugin.wasm")));
    });
  }
});
