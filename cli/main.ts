#!/usr/bin/env node
// proxy-wasm-as command line: a thin registry of the commands in cli/commands/.

import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerSimulate } from "./commands/simulate.js";
import { register as registerPackage } from "./commands/package.js";
import { register as registerPush } from "./commands/push.js";
import { register as registerPull } from "./commands/pull.js";
import { register as registerInspect } from "./commands/inspect.js";
import { register as registerGenerate } from "./commands/generate.js";
import { register as registerMigrate } from "./commands/migrate.js";
import { register as registerRun } from "./commands/run.js";
import { register as registerBuild } from "./commands/build.js";
import { register as registerTest } from "./commands/test.js";
import { register as registerInit } from "./commands/init.js";

const program = new Command();
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
program.name("proxy-wasm-as").description("Build and test Proxy-Wasm filters written in AssemblyScript");
program.version(version, "-V, --version", "print the SDK version");
program.exitOverride((err) => {
  // Usage errors exit with 1 (commander's default for help/version output is kept).
  process.exit(err.exitCode === 0 ? 0 : 1);
});
registerSimulate(program);
registerPackage(program);
registerPush(program);
registerPull(program);
registerInspect(program);
registerGenerate(program);
registerMigrate(program);
registerRun(program);
registerBuild(program);
registerTest(program);
registerInit(program);

program.parse(process.argv);
