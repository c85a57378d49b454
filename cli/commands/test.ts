// `proxy-wasm-as test [DIR]`: builds the filter project, then runs its tests with node's test
// runner (`node --test` in DIR, which finds *.test.mjs and test/**). Exits with the tests' code.
// Each test gets a timeout (node's --test-timeout), so a test waiting for something that never
// comes fails instead of hanging; a callback that never returns is stopped by the testing API's
// callback deadline first.

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Command } from "commander";
import { reportErrors } from "../report-errors.js";
import { WAIT_FOR_DEBUGGER_ENV, inspectAddress } from "../../host/debug/inspect.js";
import { build, outFileOf } from "./build.js";

export function register(program: Command): void {
  program
    .command("test")
    .description("build the filter project, then run its tests (node --test)")
    .argument("[dir]", "the filter project", ".")
    .option("--no-build", "run the tests against the current build")
    .option("--timeout <ms>", "fail a test that runs longer (node --test-timeout)", "60000")
    .option(
      "--inspect [[host:]port]",
      "debug the filter: build the debug target where the release module goes, then run the test files one at a time under node's inspector (default 127.0.0.1:9229), each waiting for a debugger once it loads the filter; no callback deadline",
    )
    .argument("[files...]", "test files (default: node's test discovery in DIR)")
    .action(
      reportErrors("test", async (dir: string, files: string[], o: { build: boolean; timeout: string; inspect?: string | true }) => {
        const timeout = Number(o.timeout);
        if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`bad --timeout '${o.timeout}': milliseconds, at least 1`);
        const inspect = o.inspect === undefined ? null : inspectAddress(o.inspect);
        // Breakpoints land on every line and locals keep their names in the debug build; the next build puts the release module back.
        if (o.build) await build(dir, inspect ? { target: "debug", outFile: outFileOf(dir, "release") } : {});
        const code = await new Promise<number>((done, reject) => {
          // NODE_TEST_CONTEXT (set when this runs under a test runner) would hide the report.
          const { NODE_TEST_CONTEXT: _unused, ...env } = process.env;
          const inspectArgs = inspect ? [`--inspect=${inspect.host}:${inspect.port}`] : [];
          const inspectEnv = inspect ? { [WAIT_FOR_DEBUGGER_ENV]: "1", PROXY_WASM_AS_CALLBACK_DEADLINE_MS: "0" } : {};
          const testTimeout = inspect ? [] : [`--test-timeout=${timeout}`];
          const child = spawn(process.execPath, [...inspectArgs, "--test", ...testTimeout, ...files], {
            cwd: resolve(dir),
            stdio: "inherit",
            env: { ...env, ...inspectEnv },
          });
          child.on("error", reject);
          child.on("exit", (c, signal) => done(c ?? (signal ? 1 : 0)));
        });
        if (code !== 0) throw new Error(`tests failed (node --test exited with ${code})`);
      }),
    );
}
