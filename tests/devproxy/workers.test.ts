// `run --concurrency N` serves with N worker threads, as Envoy's workers: a callback that never
// returns on one worker leaves the others serving and Ctrl-C still stops the proxy; shared data
// (with CAS) and queues are shared across the threads by vm_id; a VM that fails on one worker
// fails only that worker's streams. Each test filter is hand-written WAT.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { filter } from "../host/support/wat.js";
import { repoRoot } from "../support/plugins.js";
import { send } from "./hostile-support.js";
import { runCli, startProxy, type RunningProxy } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "pwas-workers-"));

/**
 * x-spin on a request: on_request_headers loops forever; x-trap: it traps (unreachable). Otherwise it bumps the byte at shared
 * key "count" with compare-and-swap (retrying on CasMismatch) and adds it as request header
 * x-count, so the echo upstream shows the value this request got.
 */
const counting = filter({
  imports: ["proxy_get_header_map_value", "proxy_get_shared_data", "proxy_set_shared_data", "proxy_add_header_map_value"],
  body: `(data (i32.const 100) "x-spin") (data (i32.const 120) "count") (data (i32.const 140) "x-count") (data (i32.const 160) "x-trap")
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $v i32)
      (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304)))
        (then (loop $forever (br $forever))))
      (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 160) (i32.const 6) (i32.const 300) (i32.const 304)))
        (then (unreachable)))
      (loop $retry
        (i32.store (i32.const 308) (i32.const 0))
        (local.set $v (i32.const 49))
        (if (i32.eqz (call $proxy_get_shared_data (i32.const 120) (i32.const 5) (i32.const 300) (i32.const 304) (i32.const 308)))
          (then (local.set $v (i32.add (i32.load8_u (i32.load (i32.const 300))) (i32.const 1)))))
        (i32.store8 (i32.const 400) (local.get $v))
        (br_if $retry (call $proxy_set_shared_data (i32.const 120) (i32.const 5) (i32.const 400) (i32.const 1) (i32.load (i32.const 308)))))
      (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 140) (i32.const 7) (i32.const 400) (i32.const 1)))
      (i32.const 0))`,
});

/**
 * Every VM registers queue "jobs" in on_vm_start (the last to register is its consumer, as in
 * cpp-host); each request enqueues its path; on_queue_ready dequeues and logs the item.
 */
const queueing = filter({
  imports: ["proxy_register_shared_queue", "proxy_resolve_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue", "proxy_get_header_map_value"],
  body: `(data (i32.const 100) "jobs") (data (i32.const 120) ":path")
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (drop (call $proxy_register_shared_queue (i32.const 100) (i32.const 4) (i32.const 500)))
      (i32.const 1))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_resolve_shared_queue (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 4) (i32.const 504)))
      (drop (call $proxy_get_header_map_value (i32.const 0) (i32.const 120) (i32.const 5) (i32.const 300) (i32.const 304)))
      (drop (call $proxy_enqueue_shared_queue (i32.load (i32.const 504)) (i32.load (i32.const 300)) (i32.load (i32.const 304))))
      (i32.const 0))
    (func (export "proxy_on_queue_ready") (param i32 i32)
      (if (i32.eqz (call $proxy_dequeue_shared_queue (local.get 1) (i32.const 300) (i32.const 304)))
        (then (call $log_out))))`,
});

/** Every VM asks for a tick every 100 ms in on_vm_start and logs "42" on each tick. */
const ticking = filter({
  imports: ["proxy_set_tick_period_milliseconds"],
  body: `(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 100)))
      (i32.const 1))
    (func (export "proxy_on_tick") (param i32) (call $report (i32.const 42)))`,
});

/** x-busy on a request: on_request_headers keeps its worker busy for 3 s (the host's wall clock), then lets it through. */
const busy = filter({
  imports: ["proxy_get_header_map_value", "proxy_get_current_time_nanoseconds"],
  body: `(data (i32.const 100) "x-busy")
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $until i64)
      (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304)))
        (then
          (drop (call $proxy_get_current_time_nanoseconds (i32.const 400)))
          (local.set $until (i64.add (i64.load (i32.const 400)) (i64.const 3000000000)))
          (loop $busy
            (drop (call $proxy_get_current_time_nanoseconds (i32.const 400)))
            (br_if $busy (i64.lt_u (i64.load (i32.const 400)) (local.get $until))))))
      (i32.const 0))`,
});

const countingPath = join(dir, "counting.wasm");
const busyPath = join(dir, "busy.wasm");
writeFileSync(busyPath, busy);
const tickingPath = join(dir, "ticking.wasm");
writeFileSync(tickingPath, ticking);
const queueingPath = join(dir, "queueing.wasm");
writeFileSync(countingPath, counting);
writeFileSync(queueingPath, queueing);

type Event = Record<string, unknown>;
const requestOn = (p: RunningProxy, path: string) => p.waitFor((e) => e.event === "request" && e.path === path, 10_000);
/** Waits up to `ms` for the process to exit (then kills it, so a proxy that ignores SIGINT fails the test, not hangs it). */
const exitWithin = async (p: RunningProxy, ms: number) => {
  const started = Date.now();
  const code = await new Promise<number | null | "still running">((resolve) => {
    if (p.child.exitCode !== null) return resolve(p.child.exitCode);
    const timer = setTimeout(() => {
      p.child.kill("SIGKILL");
      resolve("still running");
    }, ms);
    p.child.once("exit", (c) => (clearTimeout(timer), resolve(c)));
  });
  return { code, ms: Date.now() - started };
};

/**
 * `connections` clients on `agent`'s keep-alive connections, each sending requests back to back (on a
 * new connection when the proxy closes one), until `requests` were answered, all with 200. Returns
 * the worker that served each, in the order they were answered.
 */
const keepAliveLoad = async (proxy: RunningProxy, agent: http.Agent, connections: number, requests: number, prefix: string): Promise<unknown[]> => {
  const answered: string[] = [];
  let sent = 0;
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(`${proxy.url}${path}`, { agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no response within 10 s`)));
      req.on("error", reject);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < requests) {
        const path = `/${prefix}${sent++}`;
        assert.equal(await get(path), 200, path);
        answered.push(path);
      }
    }),
  );
  return Promise.all(answered.map(async (path) => (await requestOn(proxy, path)).worker));
};
const countBy = (values: unknown[]) => {
  const counts = new Map<unknown, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
};

/**
 * Sends a request whose callback loops forever to a proxy run with `--callback-deadline
 * deadlineMs`: it must be reset with its worker within the deadline + 1.5 s. Returns the error
 * event that says so.
 */
const stuckPastDeadline = async (proxy: RunningProxy, deadlineMs: number): Promise<Event> => {
  const started = Date.now();
  const stuck = await send(`${proxy.url}/spin`, { headers: { "x-spin": "1" } }).catch((e: Error) => e);
  const ms = Date.now() - started;
  assert.ok(stuck instanceof Error, "the stuck request is reset with its worker");
  assert.ok(ms < deadlineMs + 1500, `stopped after ${ms} ms`);
  return proxy.waitFor((e) => e.event === "error" && /past the callback deadline/.test(String(e.message)), 5000);
};

describe("run --concurrency: worker threads", () => {
  const running: RunningProxy[] = [];
  after(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  });

  for (const workers of [null, 1, 2]) {
    const flags = workers === null ? [] : ["--concurrency", String(workers)];
    it(`${workers === null ? "without --concurrency" : `--concurrency ${workers}`}: Ctrl-C stops the proxy within seconds while a callback loops forever${workers && workers > 1 ? ", and the other worker keeps serving meanwhile" : ""}`, async () => {
      const proxy = await startProxy([countingPath, ...flags, "--callback-deadline", "0"]);
      running.push(proxy);
      const spinning = send(`${proxy.url}/spin`, { headers: { "x-spin": "1" } }).catch((e: Error) => e);
      await new Promise((r) => setTimeout(r, 300));
      if (workers && workers > 1) {
        const served: Event[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await send(`${proxy.url}/meanwhile${i}`, { ms: 5000 });
          assert.equal(res.status, 200, `request ${i} while worker spins`);
          served.push(await requestOn(proxy, `/meanwhile${i}`));
        }
        assert.equal(new Set(served.map((e) => e.worker)).size, 1, "one worker is stuck: the other served them all");
      }
      proxy.child.kill("SIGINT");
      const exit = await exitWithin(proxy, 5000);
      assert.equal(exit.code, 0, `exit after SIGINT (${exit.ms} ms)`);
      assert.ok(proxy.events.some((e) => e.event === "stopped" && e.signal === "SIGINT"));
      assert.ok((await spinning) instanceof Error, "the stuck request ends with the proxy");
    });
  }

  it("shared data is one store across worker threads: CAS increments from both workers lose nothing", async () => {
    const proxy = await startProxy([countingPath, "--concurrency", "2"]);
    running.push(proxy);
    try {
      const first = await send(`${proxy.url}/first`);
      assert.equal(JSON.parse(first.body.toString()).headers["x-count"], "1");
      const workersSeen = new Set<unknown>();
      const values: string[] = [];
      for (let round = 0; round < 5 && (workersSeen.size < 2 || values.length < 20); round++) {
        const batch = await Promise.all(Array.from({ length: 10 }, (_, i) => send(`${proxy.url}/r${round}-${i}`)));
        for (const [i, res] of batch.entries()) {
          assert.equal(res.status, 200);
          values.push(JSON.parse(res.body.toString()).headers["x-count"]);
          workersSeen.add((await requestOn(proxy, `/r${round}-${i}`)).worker);
        }
      }
      assert.deepEqual(workersSeen, new Set([0, 1]), "both workers served");
      const numbers = values.map((v) => v.charCodeAt(0) - 48).sort((a, b) => a - b);
      assert.deepEqual(numbers, Array.from({ length: values.length }, (_, i) => i + 2), "every request got its own value");
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  it("a shared queue's on_queue_ready runs on the worker whose VM registered it last, whoever enqueues", async () => {
    const proxy = await startProxy([queueingPath, "--concurrency", "2"]);
    running.push(proxy);
    try {
      const enqueuedBy = new Set<unknown>();
      for (let i = 0; i < 30 && enqueuedBy.size < 2; i++) {
        assert.equal((await send(`${proxy.url}/job${i}`)).status, 200);
        enqueuedBy.add((await requestOn(proxy, `/job${i}`)).worker);
        const ready = await proxy.waitFor((e) => e.event === "log" && e.message === `/job${i}`, 5000);
        assert.equal(ready.worker, 1, "worker 1 started after worker 0 and registered last");
      }
      assert.deepEqual(enqueuedBy, new Set([0, 1]), "both workers enqueued");
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  it("ticks fire on every worker's VM, never on the canary", async () => {
    const proxy = await startProxy([tickingPath, "--concurrency", "2"]);
    running.push(proxy);
    try {
      for (const worker of [0, 1]) await proxy.waitFor((e) => e.event === "log" && e.message === "42" && e.worker === worker, 10_000);
      assert.ok(proxy.events.filter((e) => e.message === "42").every((e) => e.worker === 0 || e.worker === 1), "only workers tick");
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });

  it("without --concurrency: one worker thread (canary + its VM, as Envoy), so no one-VM warning, and its lines read as a single thread's", async () => {
    const oneVm = (p: RunningProxy) => p.events.filter((e) => typeof e.message === "string" && e.message.includes("no concurrency given"));
    const single = await startProxy([tickingPath]);
    running.push(single);
    try {
      assert.equal(single.events.find((e) => e.event === "listening")!.workers, 1);
      const tick = await single.waitFor((e) => e.event === "log" && e.message === "42", 10_000);
      assert.equal(tick.worker, undefined, "one worker: no worker tag");
      await send(`${single.url}/one`);
      assert.equal((await requestOn(single, "/one")).worker, undefined);
      assert.deepEqual(oneVm(single), [], "the dev proxy starts Envoy's VMs itself");
    } finally {
      assert.equal(await single.stop(), 0);
    }
    const threads = await startProxy([tickingPath, "--concurrency", "2"]);
    running.push(threads);
    try {
      for (const worker of [0, 1]) await threads.waitFor((e) => e.event === "log" && e.message === "42" && e.worker === worker, 10_000);
      assert.deepEqual(oneVm(threads), [], "the dev proxy starts Envoy's VMs itself");
    } finally {
      assert.equal(await threads.stop(), 0);
    }
  });

  for (const flags of [["--concurrency", "1"], []]) {
    it(`${flags.length ? flags.join(" ") : "without --concurrency"}: the main thread stops a callback past the deadline, names it, and the proxy serves on with a new worker`, async () => {
      const deadlineMs = 500;
      const proxy = await startProxy([countingPath, ...flags, "--callback-deadline", String(deadlineMs)]);
      running.push(proxy);
      try {
        const error = await stuckPastDeadline(proxy, deadlineMs);
        // One worker: no worker tag, as in the rest of the output.
        assert.match(String(error.message), /^counting: proxy_on_request_headers ran for \d+ ms, past the callback deadline of 500 ms: the worker was stopped/);
        const elapsed = Number(/ran for (\d+) ms/.exec(String(error.message))![1]);
        assert.ok(elapsed > deadlineMs && elapsed < deadlineMs + 1000, `elapsed ${elapsed} ms`);
        let served = null;
        let path = "";
        for (let i = 0; i < 50 && served === null; i++) {
          const res = await send(`${proxy.url}/after${i}`).catch(() => null);
          if (res?.status === 200) (served = res), (path = `/after${i}`);
          else await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(served, "serves again after the stop");
        assert.equal(JSON.parse(served.body.toString()).headers["x-count"], "1", "the new worker's VM ran the filter");
        // The inspector: the new worker counts its requests from 1 again, but the page's ids go on (the stuck request was 1).
        let traced: { id: string; path: string } | undefined;
        for (let i = 0; i < 50 && !traced; i++) {
          const state = (await (await fetch(`${proxy.admin}/inspector/state`)).json()) as { requests: { id: string; path: string }[] };
          traced = state.requests.find((r) => r.path === path);
          if (!traced) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(traced?.id, "2", JSON.stringify(traced));
      } finally {
        assert.equal(await proxy.stop(), 0, JSON.stringify(proxy.events.filter((e) => e.event !== "request")) + proxy.stderr());
      }
    });
  }

  it("--concurrency 2: past the deadline the main thread stops every worker (they share one socket), says so, and a new pool serves on", async () => {
    const deadlineMs = 500;
    const proxy = await startProxy([countingPath, "--concurrency", "2", "--callback-deadline", String(deadlineMs)]);
    running.push(proxy);
    try {
      const error = await stuckPastDeadline(proxy, deadlineMs);
      assert.match(
        String(error.message),
        /^counting: proxy_on_request_headers ran for \d+ ms on worker [01], past the callback deadline of 500 ms: all 2 workers were stopped \(every connection of every worker reset: they share one listening socket\) and replaced/,
      );
      let serving = false;
      for (let i = 0; i < 50 && !serving; i++) {
        serving = (await send(`${proxy.url}/after${i}`).catch(() => null))?.status === 200;
        if (!serving) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(serving, "serves again after the stop");
      // Keep-alive connections opened at once mostly land on the worker that wakes first; the
      // workers spread them (workers/balance.ts), which only a worker serving the port can take.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      try {
        const served = await keepAliveLoad(proxy, agent, 8, 400, "spread");
        assert.deepEqual(new Set(served.slice(-40)), new Set([0, 1]), `both new workers serve the port: ${JSON.stringify([...countBy(served)])}`);
      } finally {
        agent.destroy();
      }
    } finally {
      assert.equal(await proxy.stop(), 0, JSON.stringify(proxy.events.filter((e) => e.event !== "request")) + proxy.stderr());
    }
  });

  it("--concurrency 2: 32 keep-alive connections opened while one worker is busy all land on the other, then spread over both within 640 requests", async () => {
    const proxy = await startProxy([busyPath, "--concurrency", "2"]);
    running.push(proxy);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    try {
      const busy = send(`${proxy.url}/busy`, { headers: { "x-busy": "1" } });
      await new Promise((r) => setTimeout(r, 300));
      const opened = await keepAliveLoad(proxy, agent, 32, 32, "opened");
      assert.equal((await busy).status, 200);
      const busyWorker = (await requestOn(proxy, "/busy")).worker;
      const other = busyWorker === 0 ? 1 : 0;
      assert.deepEqual(countBy(opened), new Map([[other, 32]]), "the busy worker accepted none");
      const served = await keepAliveLoad(proxy, agent, 32, 640, "load");
      const last = countBy(served.slice(-64));
      assert.ok((last.get(0) ?? 0) >= 16 && (last.get(1) ?? 0) >= 16, `the last 64 requests by worker: ${JSON.stringify([...last])}; all: ${JSON.stringify([...countBy(served)])}`);
    } finally {
      agent.destroy();
      assert.equal(await proxy.stop(), 0);
    }
  });

  it("a VM that fails on one worker (FAIL_CLOSED) fails that worker's streams; the other worker serves", async () => {
    const proxy = await startProxy([countingPath, "--concurrency", "2"]);
    running.push(proxy);
    try {
      const failed = await send(`${proxy.url}/trap`, { headers: { "x-trap": "1" } });
      assert.equal(failed.status, 503);
      const failedOn = (await requestOn(proxy, "/trap")).worker;
      const statusBy = new Map<unknown, Set<number>>();
      for (let i = 0; i < 40 && statusBy.size < 2; i++) {
        const res = await send(`${proxy.url}/after${i}`);
        const worker = (await requestOn(proxy, `/after${i}`)).worker;
        statusBy.set(worker, new Set([...(statusBy.get(worker) ?? []), res.status]));
      }
      assert.deepEqual(statusBy.get(failedOn === 0 ? 1 : 0), new Set([200]), "the other worker serves");
      if (statusBy.has(failedOn)) assert.deepEqual(statusBy.get(failedOn), new Set([503]), "the failed worker's VM stays failed");
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});

describe("run --concurrency 2 with --record and the inspector: every worker's events reach the main thread", () => {
  const recording = join(dir, "threads.jsonl");
  const authWasm = join(repoRoot, "examples", "http-auth", "build", "plugin.wasm");
  let auth: http.Server;
  let proxy: RunningProxy;
  const servedBy = new Map<string, unknown>();

  it("serves http-auth (a callout per request) on both workers", async () => {
    auth = http.createServer((req, res) => res.writeHead(req.headers.authorization === "Bearer good" ? 200 : 401, { "x-auth-user": "alice" }).end());
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
    const port = (auth.address() as AddressInfo).port;
    proxy = await startProxy([authWasm, "--config", '{"cluster": "auth", "timeoutMs": 10000}', "--cluster", `auth=http://127.0.0.1:${port}`, "--concurrency", "2", "--record", recording]);
    for (let round = 0; round < 10 && new Set(servedBy.values()).size < 2; round++) {
      const paths = Array.from({ length: 4 }, (_, i) => `/p${round}-${i}`);
      const statuses = await Promise.all(paths.map(async (path, i) => (await send(`${proxy.url}${path}`, { headers: { authorization: i % 2 ? "Bearer bad" : "Bearer good" } })).status));
      assert.deepEqual(statuses, [200, 401, 200, 401]);
      for (const path of paths) servedBy.set(path, (await requestOn(proxy, path)).worker);
    }
    assert.deepEqual(new Set(servedBy.values()), new Set([0, 1]), "both workers served");
  });

  it("the inspector on the main thread's admin port shows every worker's requests, ids by worker, with their callouts", async () => {
    const state = await (await fetch(`${proxy.admin}/inspector/state`)).json();
    assert.equal(state.total, servedBy.size);
    const byPath = new Map<string, { id: string; status: number; filters: { callouts: { status: number }[] }[] }>(state.requests.map((r: { path: string }) => [r.path, r]));
    for (const [path, worker] of servedBy) {
      const r = byPath.get(path)!;
      assert.ok(r, `${path} in the inspector`);
      assert.match(r.id, new RegExp(`^${worker}\\.\\d+$`), `${path}: the id names worker ${worker}`);
      assert.equal(r.filters[0].callouts.length, 1, `${path}: its callout`);
      assert.equal(r.filters[0].callouts[0].status, r.status === 200 ? 200 : 401);
    }
    assert.equal(new Set(state.requests.map((r: { id: string }) => r.id)).size, servedBy.size, "ids are unique across workers");
    assert.ok(["0", "1"].every((w) => state.memory.some((m: { vm: string }) => m.vm.endsWith(` w${w}`))), JSON.stringify(state.memory.map((m: { vm: string }) => m.vm)));
    const page = await fetch(`${proxy.admin}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  it("writes one recording: a header, then every worker's exchanges numbered 1..N with their callout answers; replay finds no changes", async () => {
    assert.equal(await proxy.stop(), 0);
    await new Promise((r) => auth.close(r));
    const [header, ...exchanges] = readFileSync(recording, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(header.filters[0].name, "http-auth");
    assert.equal(exchanges.length, servedBy.size);
    assert.deepEqual(exchanges.map((e) => e.exchange).sort((a, b) => a - b), Array.from({ length: servedBy.size }, (_, i) => i + 1));
    for (const e of exchanges) assert.equal(e.filters[0].callouts[0].answer.headers[0][1], e.request.headers.some(([, v]: string[]) => v === "Bearer good") ? "200" : "401");
    const r = await runCli(["replay", recording, authWasm]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${servedBy.size} exchanges replayed: no changes`));
  });
});
