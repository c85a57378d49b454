// The simulate command: JSON shape and exit codes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { encodePairs } from "../../host/index.js";
import { bytesData, data, filter } from "./support/wat.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pwas-cli-"));
const simulate = (...args: string[]) => spawnSync(process.execPath, [main, "simulate", ...args], { encoding: "utf8" });

const okWasm = join(dir, "ok.wasm");
writeFileSync(
  okWasm,
  filter({
    imports: ["proxy_add_header_map_value"],
    body: `(data (i32.const 1024) "x-n") (global $n (mut i32) (i32.const 48))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (i32.store8 (i32.const 1030) (global.get $n))
        (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 1024) (i32.const 3) (i32.const 1030) (i32.const 1)))
        (i32.const 0))`,
  }),
);
const CALL_HEADERS = encodePairs([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]);
const calloutWasm = join(dir, "callout.wasm");
writeFileSync(
  calloutWasm,
  filter({
    imports: ["proxy_http_call", "proxy_get_header_map_value", "proxy_get_buffer_bytes", "proxy_set_effective_context", "proxy_continue_stream"],
    body: `${data(1100, "authz")}${bytesData(1200, CALL_HEADERS)}${data(1180, "x-a")}
      (global $caller (mut i32) (i32.const 0))
      (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
        (global.set $caller (local.get $ctx))
        (call $report (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 1200) (i32.const ${CALL_HEADERS.length})
          (i32.const 1100) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 500) (i32.const 320)))
        (i32.const 1))
      (func (export "proxy_on_http_call_response") (param i32 i32) (param $nh i32) (param $nb i32) (param i32)
        (call $report (local.get $nh))
        (drop (call $proxy_get_header_map_value (i32.const 6) (i32.const 1180) (i32.const 3) (i32.const 300) (i32.const 304)))
        (call $log_out)
        (drop (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (local.get $nb) (i32.const 300) (i32.const 304)))
        (call $log_out)
        (drop (call $proxy_set_effective_context (global.get $caller)))
        (drop (call $proxy_continue_stream (i32.const 0))))`,
  }),
);
const tickWasm = join(dir, "tick.wasm");
writeFileSync(
  tickWasm,
  filter({
    imports: ["proxy_set_tick_period_milliseconds", "proxy_define_metric", "proxy_increment_metric", "proxy_set_shared_data"],
    body: `${data(1100, "ticks")}${data(1110, "last")}${data(1120, "tick")}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 10)))
        (drop (call $proxy_define_metric (i32.const 0) (i32.const 1100) (i32.const 5) (i32.const 320)))
        (i32.const 1))
      (func (export "proxy_on_tick") (param i32)
        (drop (call $proxy_increment_metric (i32.load (i32.const 320)) (i64.const 1)))
        (drop (call $proxy_set_shared_data (i32.const 1110) (i32.const 4) (i32.const 1120) (i32.const 4) (i32.const 0))))`,
  }),
);
const refusingWasm = join(dir, "refuse.wasm");
writeFileSync(refusingWasm, filter({ body: `(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))` }));

describe("proxy-wasm-as simulate", () => {
  it("prints start and one result per request through the same VM, exit 0", () => {
    const run = simulate(okWasm, "--request-header", ":path: /x", "--request-header", "a: b: c", "--request-body", "hi", "--requests", "2");
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(out), ["start", "requests", "workers", "metrics", "sharedData"]);
    assert.deepEqual(out.start, { ok: true, error: null, logs: [] });
    assert.equal(out.requests.length, 2);
    const headers = out.requests.map((r: { upstreamRequest: { headers: [string, string][] } }) => r.upstreamRequest.headers);
    assert.deepEqual(headers[0].find(([k]: [string]) => k === ":path"), [":path", "/x"]);
    assert.deepEqual(headers[0].find(([k]: [string]) => k === "a"), ["a", "b: c"]);
    assert.deepEqual([headers[0], headers[1]].map((h) => h.find(([k]: [string]) => k === "x-n")[1]), ["1", "2"], "state persists");
    assert.equal(out.requests[0].upstreamRequest.body, "hi");
  });

  it("answers callouts from --http-call-response in order, lists each call, and the paused request continues", () => {
    const run = simulate(calloutWasm, "--cluster", "authz", "--http-call-response", "status=201,header=x-a: 1,body=a,b=c");
    assert.equal(run.status, 0, run.stderr);
    const [request] = JSON.parse(run.stdout).requests;
    assert.equal(request.stopped, null);
    assert.ok(request.upstreamRequest);
    assert.deepEqual(request.logs.map((l: { message: string }) => l.message), ["00", "02", "1", "a,b=c"]);
    assert.deepEqual(request.httpCalls, [
      { token: 4, upstream: "authz", headers: [[":method", "GET"], [":path", "/check"], [":authority", "auth"]], body: "authz", trailers: [], timeoutMs: 500 },
    ]);
    const failed = JSON.parse(simulate(calloutWasm, "--http-call-response", "fail").stdout).requests[0];
    assert.equal(failed.stopped, null);
    assert.deepEqual(failed.logs.map((l: { message: string }) => l.message).slice(0, 2), ["00", "00"]);
  });

  it("refuses callouts to a cluster not given with --cluster (BAD_ARGUMENT) and leaves unanswered requests paused", () => {
    const run = simulate(calloutWasm, "--cluster", "other", "--http-call-response", "status=200");
    const [request] = JSON.parse(run.stdout).requests;
    assert.deepEqual(request.logs.map((l: { message: string }) => l.message), ["02"]);
    assert.deepEqual(request.httpCalls, []);
    assert.equal(request.stopped, "paused");
    assert.equal(JSON.parse(simulate(calloutWasm).stdout).requests[0].stopped, "paused");
    const bad = simulate(calloutWasm, "--http-call-response", "status=abc");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /bad --http-call-response/);
  });

  it("runs --tick N ticks after start and reports metrics and shared data", () => {
    const run = simulate(tickWasm, "--tick", "3", "--requests", "0", "--vm-id", `cli-tick-${process.pid}`);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(out), ["start", "ticks", "requests", "workers", "metrics", "sharedData"]);
    assert.equal(out.ticks.ran, 3);
    assert.deepEqual(out.metrics, [{ name: "ticks", type: "counter", value: 3, samples: [] }]);
    assert.deepEqual(Object.keys(out.sharedData), ["last"]);
    assert.equal(out.sharedData.last.value, "tick");
  });

  it("--concurrency N starts Envoy's canary and N workers and spreads requests round-robin; --worker K picks one", () => {
    const headerN = (r: { upstreamRequest: { headers: [string, string][] } }) => r.upstreamRequest.headers.find(([k]) => k === "x-n")?.[1];
    const out = JSON.parse(simulate(okWasm, "--concurrency", "2", "--requests", "4").stdout);
    assert.deepEqual(out.requests.map((r: { worker: number }) => r.worker), [0, 1, 0, 1]);
    assert.deepEqual(out.requests.map(headerN), ["1", "1", "2", "2"], "each worker's VM has its own global");
    assert.deepEqual(out.workers.map((w: { worker: number }) => w.worker), [0, 1]);
    const pinned = JSON.parse(simulate(okWasm, "--concurrency", "2", "--worker", "1", "--requests", "2").stdout);
    assert.deepEqual(pinned.requests.map(headerN), ["1", "2"]);
    const bad = simulate(okWasm, "--concurrency", "2", "--worker", "2");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /bad --worker 2: workers are 0 to 1/);
  });

  it("--failure-policy FAIL_RELOAD recreates a VM that a runaway callback failed, once --interval passed the backoff", () => {
    const spin = join(dir, "spin.wasm");
    writeFileSync(
      spin,
      filter({
        body: `(global $n (mut i32) (i32.const 0))
          (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
            (global.set $n (i32.add (global.get $n) (i32.const 1)))
            (if (i32.eq (global.get $n) (i32.const 2)) (then (loop $l (br $l))))
            (call $report (global.get $n))
            (i32.const 0))`,
      }),
    );
    const args = [spin, "--requests", "3", "--callback-deadline", "100", "--log-level", "error"];
    const closed = JSON.parse(simulate(...args).stdout);
    assert.deepEqual(closed.requests.map((r: { stopped: string | null }) => r.stopped), [null, "vm_failed", "vm_failed"]);
    assert.match(closed.workers[0].failure, /proxy_on_request_headers failed: it ran for \d+ ms, past the callback deadline of 100 ms/);
    const reload = JSON.parse(simulate(...args, "--failure-policy", "FAIL_RELOAD", "--interval", "1500").stdout);
    assert.deepEqual(reload.requests.map((r: { stopped: string | null }) => r.stopped), [null, "vm_failed", null]);
    assert.equal(reload.workers[0].reloads, 1);
  });

  it("exits 2 and still prints JSON when the plugin fails to start", () => {
    const run = simulate(refusingWasm);
    assert.equal(run.status, 2);
    const out = JSON.parse(run.stdout);
    assert.equal(out.start.ok, false);
    assert.match(out.start.error, /on_configure returned false/);
    assert.deepEqual(out.requests, []);
  });

  it("exits 1 with a one-line error on bad usage", () => {
    const badHeader = simulate(okWasm, "--request-header", "no-separator");
    assert.equal(badHeader.status, 1);
    assert.match(badHeader.stderr, /^error: bad header 'no-separator'/);
    assert.equal(badHeader.stdout, "");
    const missing = simulate(join(dir, "missing.wasm"));
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
  });
});
