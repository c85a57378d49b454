// `npm test` after the compile: builds every filter the tests load once (in parallel; unchanged ones not at
// all), then runs the test files and the as-pect suite in parallel, printing each one's time as it ends and
// the output of any that fails. TEST_JOBS sets how many run at once (default: the cores, at least 2).

import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAll } from "../cli/commands/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = join(root, "dist", "tests");
const jobs = Number(process.env.TEST_JOBS) > 0 ? Number(process.env.TEST_JOBS) : Math.max(2, availableParallelism());
/** The longest files, started first so they do not end the run alone (the rest by name). */
const LONG_FIRST = ["cli/registry-install", "cli/init", "cli/build-cache", "oci/", "reliability/", "devproxy/", "transform/", "sdk/", "examples/"];

interface Job {
  name: string;
  command: string[];
}

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  tests: number;
  failed: number;
  output: string;
}

const folders = (dir: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).sort().map((n) => join(dir, n)) : []);

function testFiles(): string[] {
  const files = readdirSync(dist, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".test.js"))
    .sort();
  const rank = (f: string) => {
    const i = LONG_FIRST.findIndex((prefix) => f.startsWith(prefix));
    return i < 0 ? LONG_FIRST.length : i;
  };
  return files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function run(job: Job): Promise<Outcome> {
  const started = Date.now();
  return new Promise((done) => {
    // Without NODE_TEST_CONTEXT, a nested node --test would report to a parent runner instead of printing.
    const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
    const child = spawn(job.command[0], job.command.slice(1), { cwd: root, env: { ...env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 25 * 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const plain = output.replace(/\x1b\[[0-9;]*m/g, ""); // as-pect colours its summary whatever the environment says
      const count = (re: RegExp) => Number(re.exec(plain)?.[1] ?? 0);
      // node --test's TAP summary, or as-pect's "[Tests]: PASSED / TOTAL".
      const aspect = /\[Tests\]: (\d+) \/ (\d+)/.exec(plain);
      const tests = aspect ? Number(aspect[2]) : count(/^# tests (\d+)$/m);
      const failed = aspect ? Number(aspect[2]) - Number(aspect[1]) : count(/^# fail (\d+)$/m) + count(/^# cancelled (\d+)$/m);
      done({ name: job.name, ok: code === 0 && failed === 0, seconds: (Date.now() - started) / 1000, tests, failed, output });
    });
  });
}

/** Fixtures whose build must fail (tests/transform/exports.test.ts builds them itself). */
const FAILS_TO_BUILD = new Set(["no-root", "commented-root"]);

/** Filters the tests also load as debug builds (tests/debug/). */
const DEBUG_BUILDS = ["tests/filters/traps", "tests/filters/trap-inlined"];

async function main(): Promise<void> {
  const started = Date.now();
  const filters = [...folders("examples"), ...folders("tests/filters"), ...folders("tests/fixtures/exports").filter((d) => !FAILS_TO_BUILD.has(basename(d)))];
  const built = await buildAll(filters.map((f) => join(root, f)), { quiet: true });
  // Debug builds the tests load (several test files at once must not each build them).
  built.push(...(await buildAll(DEBUG_BUILDS.map((f) => join(root, f)), { quiet: true, target: "debug" })));
  const compiled = built.filter((b) => !b.upToDate).length;
  process.stdout.write(`built ${built.length} filters (${compiled} compiled, ${built.length - compiled} up to date) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);

  const queue: Job[] = [
    ...testFiles().map((f) => ({ name: f, command: [process.execPath, "--test", "--test-reporter=tap", join(dist, f)] })),
    { name: "as-pect (tests/assembly)", command: [process.execPath, join(root, "node_modules", "@as-pect", "cli", "bin", "asp.js"), "--config", "as-pect.config.js"] },
  ];
  // as-pect is long: start it among the first.
  queue.splice(1, 0, queue.pop()!);
  process.stdout.write(`running ${queue.length} test files, ${jobs} at a time\n`);
  const outcomes: Outcome[] = [];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const outcome = await run(job);
      outcomes.push(outcome);
      const verdict = outcome.ok ? "ok  " : "FAIL";
      process.stdout.write(`${outcome.seconds.toFixed(1).padStart(6)}s  ${verdict}  ${outcome.name}  (${outcome.tests} tests${outcome.failed ? `, ${outcome.failed} failed` : ""})\n`);
      if (!outcome.ok) process.stdout.write(`${outcome.output.replace(/^/gm, "    | ")}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  const tests = outcomes.reduce((n, o) => n + o.tests, 0);
  const failed = outcomes.filter((o) => !o.ok);
  process.stdout.write(
    `\n${tests} tests in ${outcomes.length} files, ${failed.length ? `${failed.length} file(s) FAILED: ${failed.map((o) => o.name).join(", ")}` : "all passed"}; ` +
      `${((Date.now() - started) / 1000).toFixed(1)}s in all\n`,
  );
  // The plain closing line CI reads, whatever the runners above printed.
  const failedTests = outcomes.reduce((n, o) => n + (o.ok ? 0 : Math.max(o.failed, 1)), 0); // a file that crashed counts once
  process.stdout.write(`${Math.max(tests - failedTests, 0)} passed, ${failedTests} failed\n`);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`npm test: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
