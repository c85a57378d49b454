// Install like a user: this checkout is published to a private registry (verdaccio on loopback, with the
// packages it depends on and nothing else), then, in an empty folder using only that registry, the README's
// "Develop locally" steps: npm install proxy-wasm-as, npx proxy-wasm-as init, npm install, npm test,
// npm run build, npx proxy-wasm-as simulate.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { publishDependencies, startRegistry, type Registry } from "./registry.js";

const work = mkdtempSync(join(tmpdir(), "pwas-registry-"));
const sdk = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
let registry: Registry;
const ok = (run: { status: number | null; stdout: string; stderr: string }, what: string) => {
  assert.equal(run.status, 0, `${what} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run;
};

describe("install from a registry, as the README says", { timeout: 20 * 60_000 }, () => {
  before(async () => {
    registry = await startRegistry(join(work, "registry"));
  });
  after(() => {
    registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("publishes: the SDK, then what it and a scaffold depend on", () => {
    ok(registry.npm(["publish", "--ignore-scripts"], repoRoot), "npm publish");
    const published = publishDependencies(registry, [...Object.keys(sdk.dependencies), "@types/node"], join(work, "tarballs"));
    assert.ok(published.includes(`assemblyscript@${sdk.dependencies.assemblyscript}`), published.join(" "));
  });

  it("npm install proxy-wasm-as, init, npm install, npm test, npm run build, simulate", { timeout: 15 * 60_000 }, () => {
    const user = join(work, "user");
    mkdirSync(user);
    const install = ok(registry.npm(["install", "proxy-wasm-as"], user), "npm install proxy-wasm-as");
    assert.doesNotMatch(install.stdout + install.stderr, /install script|allowScripts/i, "installing it runs no script");
    assert.equal(ok(registry.npx(["proxy-wasm-as", "--version"], user), "npx proxy-wasm-as --version").stdout, `${sdk.version}\n`);

    const init = ok(registry.npx(["proxy-wasm-as", "init", "my-filter"], user), "npx proxy-wasm-as init my-filter");
    assert.match(init.stdout, /cd my-filter\n\s+npm install/);
    const project = join(user, "my-filter");
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.dependencies["proxy-wasm-as"], `^${sdk.version}`);

    ok(registry.npm(["install"], project), "npm install");
    const installedSdk = JSON.parse(readFileSync(join(project, "node_modules", "proxy-wasm-as", "package.json"), "utf8"));
    assert.equal(installedSdk.version, sdk.version, "the SDK came from the registry");
    assert.ok(!existsSync(join(project, "node_modules", "proxy-wasm-as", ".git")));

    const test = ok(registry.npm(["test"], project), "npm test");
    assert.match(test.stdout, /# fail 0/);
    const build = ok(registry.npm(["run", "build"], project), "npm run build");
    assert.match(build.stdout, /build\/plugin\.wasm {2}[\d,]+ bytes {2}Envoy-ready .* {2}up to date/);

    const simulate = ok(
      // Not a terminal: simulate prints its JSON document.
      registry.npx(["proxy-wasm-as", "simulate", "build/plugin.wasm", "--response-header", ":status: 200"], project),
      "npx proxy-wasm-as simulate",
    );
    const result = JSON.parse(simulate.stdout);
    const headers: [string, string][] = result.requests[0].downstreamResponse.headers;
    assert.deepEqual(headers.find(([name]) => name === "hello"), ["hello", "world"]);
  });
});
