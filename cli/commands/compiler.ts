// The AssemblyScript compiler in a worker thread, so the main thread can show progress (and, for the
// dev proxy, keep serving). A one-off build starts a worker and ends it; a watch loop keeps one
// worker with the compiler loaded and warmed up, so a rebuild skips loading asc and binaryen (most
// of a second) and runs code V8 has already optimised.

import { Worker } from "node:worker_threads";
import type { FileHashes } from "./build-cache.js";
import { binaryenUrl, CAPTURE_NAMES } from "./build-source-map.js";

export interface AscDone {
  error: string | null;
  stdout: string;
  stderr: string;
  /** Every file asc asked for, with its SHA-256 (null: it did not exist), for the build cache. */
  reads: FileHashes;
  /** The module with binaryen's names (build-source-map.ts). */
  named: Uint8Array | null;
}

/**
 * The worker: a few lines that import only the compiler (by resolved URL), so it does not load this
 * CLI's modules again. Each message is one asc run; it reads files for asc and notes each one's hash.
 */
const ASC_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { readFile } = require("node:fs/promises");
const { resolve } = require("node:path");
${CAPTURE_NAMES}
const loaded = import(workerData.ascUrl);
const capturing = captureNames(workerData.binaryenUrl);
parentPort.on("message", async (args) => {
  const { default: asc } = await loaded;
  const named = await capturing;
  // The capture outlives one build: only a module emitted by this build counts.
  const before = named();
  const reads = {};
  const readAndNote = async (name, baseDir) => {
    const path = resolve(baseDir, name);
    try {
      const text = await readFile(path, "utf8");
      reads[path] = createHash("sha256").update(text).digest("hex");
      return text;
    } catch {
      reads[path] = null;
      return null;
    }
  };
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  let error = null;
  try {
    error = (await asc.main(args, { stdout, stderr, readFile: readAndNote })).error;
  } catch (e) {
    error = e;
  }
  parentPort.postMessage({ error: error ? String(error.message ?? error) : null, stdout: stdout.toString(), stderr: stderr.toString(), reads, named: named() === before ? null : named() });
});
`;

/** One compiler worker; runs one asc command line at a time, in the order asked. */
export class Compiler {
  private readonly worker: Worker;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: { resolve: (d: AscDone) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;
  private used = false;

  constructor() {
    const ascUrl = import.meta.resolve("assemblyscript/asc");
    this.worker = new Worker(ASC_WORKER, { eval: true, workerData: { ascUrl, binaryenUrl: binaryenUrl(ascUrl) } });
    this.worker.unref();
    this.worker.on("message", (done: AscDone) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(done);
    });
    const stop = (e: Error) => {
      this.failed = e;
      const p = this.pending;
      this.pending = null;
      p?.reject(e);
    };
    this.worker.on("error", stop);
    this.worker.on("exit", (code) => stop(new Error(`the AssemblyScript compiler stopped (exit code ${code})`)));
  }

  /** Runs asc with `args`; `progress` is called every 100 ms while it runs. */
  compile(args: string[], progress: (elapsedMs: number) => void = () => {}): Promise<AscDone> {
    this.used = true;
    const run = () =>
      new Promise<AscDone>((resolveDone, reject) => {
        if (this.failed) return reject(this.failed);
        const started = Date.now();
        const timer = setInterval(() => progress(Date.now() - started), 100);
        // Only while a build runs does the worker keep the process alive.
        this.worker.ref();
        const settle = () => (clearInterval(timer), this.worker.unref());
        this.pending = { resolve: (d) => (settle(), resolveDone(d)), reject: (e) => (settle(), reject(e)) };
        this.worker.postMessage(args);
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * When nothing was compiled yet (the first build was up to date): compiles `args` without emitting, in the
   * background, so that the first rebuild after an edit runs warmed-up code (three times faster).
   */
  warmUp(args: string[]): void {
    if (this.used) return;
    this.compile([...args, "--noEmit"]).catch(() => undefined);
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** A one-off compile in a worker of its own. */
export async function compileOnce(args: string[], progress: (elapsedMs: number) => void): Promise<AscDone> {
  const compiler = new Compiler();
  try {
    return await compiler.compile(args, progress);
  } finally {
    compiler.close();
  }
}
