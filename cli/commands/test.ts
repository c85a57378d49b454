// `proxy-wasm-as test [DIR]`: builds the filter project, then runs its tests with node's test
// runner (`node --test` in DIR, which finds *.test.mjs and test/**). Exits with the tests' code.
// Each test gets a timeout (node's --test-timeout), so a test waiting for something that never
// comes fails instead of hanging; a callback that never returns is stopped by the testing API's
// callback deadline first.

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Command } from "commander";
import { reportErrors } from "../report-errors.js";
import { build } from "./build.js";

export function register(program: Command): void {
  program
    .command("test")
    .description("build the filter project, then run its tests (node --test)")
    .argument("[dir]", "the filter project", ".")
    .option("--no-build", "run the tests against the current build")
    .option("--timeout <ms>", "fail a test that runs longer (node --test-timeout)", "60000")
    .argument("[files...]", "test files (default: node's test discovery in DIR)")
    .action(
      reportErrors("test", async (dir: string, files: string[], o: { build: boolean; timeout: string }) => {
        const timeout = Number(o.timeout);
        if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`bad --timeout '${o.timeout}': milliseconds, at least 1`);
        if (o.build) await build(dir);
        const code = await new Promise<number>((done, reject) => {
          // NODE_TEST_CONTEXT (set when this runs under a test runner) would hide the report.
          const { NODE_TEST_CONTEXT: _unused, ...env } = process.env;
          const child = spawn(process.execPath, ["--test", `--test-timeout=${timeout}`, ...files], { cwd: resolve(dir), stdio: "inherit", env });
          child.on("error", reject);
          child.on("exit", (c, signal) => done(c ?? (signal ? 1 : 0)));
        });
        if (code !== 0) throw new Error(`tests failed (node --test exited with ${code})`);
      }),
    );
}
