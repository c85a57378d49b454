#!/usr/bin/env node
// proxy-wasm-as command line: a thin registry of the commands in cli/commands/.

import { readFileSync } from "node:fs";
import { Command } from "commander";

type Register = (program: Command) => void;
/** Each command's module, loaded only when it runs (or for the help, all of them): a start-up in a fraction of the time. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  simulate: async () => (await import("./commands/simulate.js")).registerSimulate,
  package: async () => (await import("./commands/package.js")).register,
  push: async () => (await import("./commands/push.js")).register,
  pull: async () => (await import("./commands/pull.js")).register,
  inspect: async () => (await import("./commands/inspect.js")).register,
  generate: async () => (await import("./commands/generate.js")).register,
  migrate: async () => (await import("./commands/migrate.js")).register,
  run: async () => (await import("./commands/run.js")).register,
  replay: async () => (await import("./commands/replay.js")).register,
  build: async () => (await import("./commands/build.js")).register,
  test: async () => (await import("./commands/test.js")).register,
  init: async () => (await import("./commands/init.js")).register,
};

const program = new Command();
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
program.name("proxy-wasm-as").description("Build and test Proxy-Wasm filters written in AssemblyScript");
program.version(version, "-V, --version", "print the SDK version");
program.exitOverride((err) => {
  // Usage errors exit with 1 (commander's default for help/version output is kept).
  process.exit(err.exitCode === 0 ? 0 : 1);
});
const invoked = process.argv[2];
for (const name of invoked !== undefined && invoked in COMMANDS ? [invoked] : Object.keys(COMMANDS)) (await COMMANDS[name]())(program);
program.parse(process.argv);
