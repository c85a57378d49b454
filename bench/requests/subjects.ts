// What the request section measures: each filter as our SDK builds it, written straight against the ABI,
// and with the old AssemblyScript SDK, plus the host's own floor.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginOptions } from "../../host/index.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const OUT = join(ROOT, "bench/build");
export const ASC = join(ROOT, "node_modules/assemblyscript/bin/asc.js");
const CLI = join(ROOT, "dist/cli/main.js");
const ASC_014 = join(ROOT, "node_modules/assemblyscript-0.14/bin/asc");

export type ImplName = "proxy-wasm-as" | "raw" | "raw+on_delete" | "solo-0.1.8";
export type FilterName = "add-header" | "prime-authorizer" | "empty" | "noop";

export interface Subject {
  filter: FilterName;
  impl: ImplName;
  wasmPath: string;
  options: PluginOptions;
  build: () => string | null; // an error message, or null
  bytes?: Uint8Array;
  /** Why this row cannot be measured (build failed, module refused, wrong behaviour). */
  unavailable?: string;
}

/** Runs a build command; an error message when it fails. */
export function run(cmd: string, args: string[], cwd: string): string | null {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status === 0) return null;
  return `build failed: ${(r.stderr || r.stdout || String(r.error)).trim().split("\n").slice(-3).join(" | ")}`;
}

function ours(filter: "add-header" | "prime-authorizer"): Subject {
  const dir = join(ROOT, "examples", filter);
  return {
    filter,
    impl: "proxy-wasm-as",
    wasmPath: join(dir, "build/plugin.wasm"),
    options: {},
    build: () => run(process.execPath, [CLI, "build", dir], ROOT),
  };
}

/** `bench/raw/<source>` built into `raw-<source>.wasm`. */
function raw(filter: FilterName, impl: ImplName = "raw", source: string = filter): Subject {
  const out = join(OUT, `raw-${source}.wasm`);
  return {
    filter,
    impl,
    wasmPath: out,
    options: {},
    build: () =>
      run(process.execPath, [ASC, `bench/raw/${source}/assembly/index.ts`, "--config", "bench/raw/asconfig.json", "-o", out], ROOT),
  };
}

/**
 * @solo-io/proxy-runtime 0.1.8 needs a root id matching registerRootContext's and a non-empty
 * configuration (an empty one makes its onConfigure fail). Built with its best flags, plus
 * --explicitStart: its default build has a wasm start section; as _start it starts up like the others.
 */
function solo(filter: "add-header" | "prime-authorizer", rootId: string, configuration: string): Subject {
  const out = join(OUT, `solo-${filter}.wasm`);
  return {
    filter,
    impl: "solo-0.1.8",
    wasmPath: out,
    options: { rootId, configuration },
    build: () =>
      existsSync(ASC_014)
        ? run(process.execPath, [
            ASC_014, `bench/solo/${filter}/assembly/index.ts`, "--config", "bench/solo/asconfig.json", "-b", out,
            "--use", "abort=abort_proc_exit", "-O3", "--shrinkLevel", "2", "--converge", "--explicitStart",
          ], ROOT)
        : "assemblyscript-0.14 is not installed (npm install)",
  };
}

export function subjects(): Subject[] {
  return [
    ours("add-header"),
    raw("add-header"),
    // The raw filter plus an empty proxy_on_delete: what one more callback per stream costs on this host.
    raw("add-header", "raw+on_delete", "add-header-on-delete"),
    solo("add-header", "add_header", "world"),
    ours("prime-authorizer"),
    raw("prime-authorizer"),
    solo("prime-authorizer", "prime_authorizer", "token"),
    raw("empty"),
    raw("noop"),
  ];
}

export const label = (s: Subject): string => `${s.filter}/${s.impl}`;
