// A worker thread that ends on its own: the pool says so (and the proxy stops, onWorkerLost). With
// one worker nothing else in the output names a worker (its lines are untagged, the deadline's
// message says "the worker"), so neither does this; with several it names the one that ended. No
// wasm can end a worker, so the test terminates the thread itself, as a crash would end it.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import type { Worker } from "node:worker_threads";
import { ThreadedDevProxy } from "../../devproxy/workers/pool.js";
import { filter } from "../host/support/wat.js";

const path = join(mkdtempSync(join(tmpdir(), "worker-exit-")), "plugin.wasm");
writeFileSync(path, filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))` }));

function pool(workers: number) {
  let printed = "";
  const lost: string[] = [];
  const out = new Writable({ write: (chunk, _enc, done) => ((printed += String(chunk)), done()) });
  const proxy = new ThreadedDevProxy({ filters: [{ path }], port: 0, adminPort: null, out, workers, requestLogging: "off", onWorkerLost: (r) => lost.push(r) });
  // The pool's threads: a test reaches in to end one, as nothing a filter does can.
  const thread = (i: number) => (proxy as unknown as { workers: { thread: Worker }[] }).workers[i].thread;
  return { proxy, thread, lost, printed: () => printed };
}

const errors = (printed: string) => printed.split("\n").filter((l) => / error /.test(l));

describe("dev proxy: a worker thread that ends on its own", () => {
  for (const [workers, ended, who] of [[1, 0, "the worker"], [2, 1, "worker 1"]] as const) {
    it(`--concurrency ${workers}: says "${who} stopped (exit code 1)" and tells the caller`, async () => {
      const { proxy, thread, lost, printed } = pool(workers);
      await proxy.start();
      try {
        await thread(ended).terminate();
        const reason = `${who} stopped (exit code 1); its listening socket went with it`;
        for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(lost, [reason]);
        assert.equal(errors(printed()).length, 1, printed());
        assert.ok(errors(printed())[0].endsWith(` error ${reason}`), errors(printed())[0]);
      } finally {
        await proxy.stop();
      }
    });

    it(`--concurrency ${workers}: a worker ended before it listened fails the start with "${workers === 1 ? "the worker" : "worker 0"} exited before it listened"`, async () => {
      const { proxy, thread } = pool(workers);
      // start() has spawned worker 0 by its first await; the thread has not loaded yet.
      const started = proxy.start();
      await thread(0).terminate();
      await assert.rejects(started, { message: `${workers === 1 ? "the worker" : "worker 0"} exited before it listened` });
    });
  }
});
