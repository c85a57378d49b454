// `build --watch` and `run --watch`: build each project, then rebuild it when one of its inputs changes
// (its folder, its asconfig chain, every folder asc read a source from: the SDK's too). A failed build
// is reported and the watch goes on; the last good module stays where it was. One compiler stays
// loaded for every rebuild, and rebuilds skip the optimiser unless asked (`build` makes the release).

import { watch, type FSWatcher } from "node:fs";
import { dirname, resolve } from "node:path";
import { build, outFileOf, type BuildResult } from "./build.js";
import { inputFolders } from "./build-cache.js";
import { Compiler } from "./compiler.js";

export interface Watching {
  /** Resolves when the first build of every project has finished (passed or failed). */
  ready: Promise<void>;
  close(): void;
}

export interface WatchOptions {
  target: string;
  json?: boolean;
  /** Optimise every rebuild as the target says (default: quick builds without the optimiser). */
  optimize?: boolean;
  /** After each build: its result, or the error that failed it. */
  onBuild?: (dir: string, result: BuildResult | Error) => void;
}

function watchProject(dirArg: string, options: WatchOptions, compiler: Compiler): Watching {
  const dir = resolve(dirArg);
  const outFile = outFileOf(dir, options.target);
  const outDir = dirname(outFile);
  const watchers = new Map<string, FSWatcher>();
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const rewatch = () => {
    const folders = new Set([dir, resolve(dir, "assembly"), ...inputFolders(outFile)]);
    folders.delete(outDir);
    for (const [folder, watcher] of watchers) if (!folders.has(folder)) (watcher.close(), watchers.delete(folder));
    for (const folder of folders) {
      if (watchers.has(folder)) continue;
      try {
        watchers.set(folder, watch(folder, () => schedule()));
      } catch {
        // A folder that went away: the next build notes where the inputs are now.
      }
    }
  };
  const once = async () => {
    running = true;
    let outcome: BuildResult | Error;
    try {
      outcome = await build(dir, { target: options.target, quiet: options.json, quick: options.optimize !== true, compiler });
    } catch (e) {
      outcome = e as Error;
    } finally {
      running = false;
    }
    if (closed) return;
    // Watch the inputs this build read before saying it is done: a change saved right after the report is seen.
    rewatch();
    report(outcome);
    if (again) {
      again = false;
      await once();
    }
  };
  const report = (outcome: BuildResult | Error) => {
    if (!(outcome instanceof Error)) {
      if (options.json) process.stdout.write(`${JSON.stringify({ event: "build", ...outcome })}\n`);
    } else if (options.json) process.stdout.write(`${JSON.stringify({ event: "build-failed", dir, error: outcome.message })}\n`);
    else process.stderr.write(`proxy-wasm-as build: ${outcome.message} (watching for changes)\n`);
    options.onBuild?.(dir, outcome);
  };
  function schedule() {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    // Editors save in several writes; one build for them all.
    timer = setTimeout(() => {
      timer = null;
      void once();
    }, 50);
  }
  return {
    ready: once(),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
    },
  };
}

/** Starts watching every project; close() stops them all. */
export function watchProjects(dirs: string[], options: WatchOptions): Watching {
  const compiler = new Compiler();
  const each = dirs.map((d) => watchProject(d, options, compiler));
  return {
    ready: Promise.all(each.map((w) => w.ready)).then(() => undefined),
    close: () => {
      each.forEach((w) => w.close());
      compiler.close();
    },
  };
}

/** `build --watch`: runs until SIGINT/SIGTERM. */
export async function watchBuilds(dirs: string[], options: WatchOptions): Promise<void> {
  const watching = watchProjects(dirs, options);
  await watching.ready;
  if (!options.json) process.stderr.write("watching for changes (Ctrl-C stops)\n");
  await new Promise<void>((done) => {
    const stop = () => {
      watching.close();
      done();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
