// `build` compiles nothing when no input changed, and again when one did; `build --watch` and `run --watch`
// rebuild on a source change (and the dev proxy serves the new module).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliMain, startProxy } from "../devproxy/support.js";
import { tempProject } from "./project.js";
import { build } from "../../cli/commands/build.js";
import { Compiler } from "../../cli/commands/compiler.js";

const cli = (args: string[]) => spawnSync(process.execPath, [cliMain, ...args], { encoding: "utf8", timeout: 180_000, env: { ...process.env, NO_COLOR: "1" } });
const buildJson = (dir: string, ...more: string[]) => {
  const run = cli(["build", dir, "--target", "debug", "--json", ...more]);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { upToDate: boolean; bytes: number; envoyReady: boolean };
};
const wasmHas = (dir: string, text: string) => readFileSync(join(dir, "build", "debug.wasm")).includes(Buffer.from(text, "utf16le")); // AssemblyScript strings are UTF-16

describe("build cache", () => {
  it("builds, then does nothing while no input changes, then rebuilds what changed", { timeout: 600_000 }, () => {
    const { dir, setHeaderValue } = tempProject("pwas-cache-");
    const first = buildJson(dir);
    assert.equal(first.upToDate, false);
    assert.equal(first.envoyReady, true);
    const wasm = join(dir, "build", "debug.wasm");
    const mtime = statSync(wasm).mtimeMs;

    const second = buildJson(dir);
    assert.equal(second.upToDate, true);
    assert.equal(second.envoyReady, true, "an up-to-date build is still checked");
    assert.equal(statSync(wasm).mtimeMs, mtime, "asc did not run");
    const human = cli(["build", dir, "--target", "debug"]);
    assert.match(human.stdout, /build\/debug\.wasm {2}[\d,]+ bytes {2}Envoy-ready \(Proxy-Wasm ABI 0\.2\.1\) {2}up to date\n/);

    setHeaderValue("cached?");
    const third = buildJson(dir);
    assert.equal(third.upToDate, false, "a changed source rebuilds");
    assert.ok(wasmHas(dir, "cached?"));

    writeFileSync(wasm, "tampered");
    assert.equal(buildJson(dir).upToDate, false, "an output changed by hand is rebuilt");
    assert.equal(buildJson(dir, "--force").upToDate, false, "--force compiles anyway");
    const asconfig = JSON.parse(readFileSync(join(dir, "asconfig.json"), "utf8"));
    asconfig.targets.debug.noAssert = true;
    writeFileSync(join(dir, "asconfig.json"), JSON.stringify(asconfig));
    assert.equal(buildJson(dir).upToDate, false, "a changed asconfig rebuilds");
    assert.equal(buildJson(dir).upToDate, true);
  });

  it("the watch loop's quick build keeps an up-to-date release module, and never passes for the release build", { timeout: 600_000 }, async () => {
    const { dir, setHeaderValue } = tempProject("pwas-quick-");
    const compiler = new Compiler();
    try {
      const release = await build(dir, { quiet: true });
      assert.equal(release.upToDate, false);
      const kept = await build(dir, { quiet: true, quick: true, compiler });
      assert.equal(kept.upToDate, true, "a release module up to date serves the watch loop as it is");
      assert.equal(kept.bytes, release.bytes);

      setHeaderValue("quick");
      const quick = await build(dir, { quiet: true, quick: true, compiler });
      assert.equal(quick.upToDate, false);
      assert.ok(quick.bytes > release.bytes * 1.2, `not optimised: ${quick.bytes} bytes against the release's ${release.bytes}`);
      const again = await build(dir, { quiet: true, quick: true, compiler });
      assert.equal(again.upToDate, true, "the kept compiler's build is cached too");

      const releaseAgain = await build(dir, { quiet: true });
      assert.equal(releaseAgain.upToDate, false, "the quick module does not pass for the release");
      assert.ok(releaseAgain.bytes < quick.bytes);
    } finally {
      compiler.close();
    }
  });

  it("build --watch rebuilds when a source changes, and reports a failed build without stopping", { timeout: 600_000 }, async () => {
    const { dir, setHeaderValue } = tempProject("pwas-watch-");
    const child = spawn(process.execPath, [cliMain, "build", dir, "--target", "debug", "--watch", "--json"], { env: { ...process.env, NO_COLOR: "1" } });
    const events: Record<string, unknown>[] = [];
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d) => {
      buffered += d;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        events.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
    });
    const waitFor = async (count: number) => {
      for (const started = Date.now(); events.length < count; await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() - started > 300_000) throw new Error(`no build after ${count - 1}: ${JSON.stringify(events)} ${stderr}`);
      }
      return events[count - 1];
    };
    try {
      assert.equal((await waitFor(1)).event, "build");
      setHeaderValue("watched");
      const rebuilt = await waitFor(2);
      assert.equal(rebuilt.event, "build");
      assert.equal(rebuilt.upToDate, false);
      assert.ok(wasmHas(dir, "watched"));
      writeFileSync(join(dir, "assembly", "index.ts"), "this is not AssemblyScript\n");
      const failed = await waitFor(3);
      assert.equal(failed.event, "build-failed");
      assert.match(String(failed.error), /asc failed/);
      assert.equal(child.exitCode, null, "still watching");
      setHeaderValue("fixed");
      assert.equal((await waitFor(4)).event, "build");
      assert.ok(wasmHas(dir, "fixed"));
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("run --watch rebuilds the filter when its source changes and the proxy serves the new one", { timeout: 600_000 }, async () => {
    const { dir, setHeaderValue } = tempProject("pwas-run-watch-");
    setHeaderValue("before");
    // No build beforehand: run --watch builds build/debug.wasm (the debug target's output) before serving it.
    const proxy = await startProxy([join(dir, "build", "debug.wasm"), "--watch"], 300_000);
    try {
      let response = await fetch(proxy.url);
      assert.equal(response.headers.get("hello"), "before");
      setHeaderValue("after");
      await proxy.waitFor((e) => e.event === "reload", 300_000);
      response = await fetch(proxy.url);
      assert.equal(response.headers.get("hello"), "after");
    } finally {
      await proxy.stop();
    }
  });
});
