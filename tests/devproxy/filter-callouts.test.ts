// The dev proxy's FilterSet sends a plugin's HTTP callouts and refuses its gRPC ones. Tokens count
// per VM: with emulated workers (--inspect --concurrency N) two workers hold the same token, and
// each call must still be sent, answered on its own worker, and then forgotten.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { FilterSet } from "../../devproxy/filters.js";
import { Logger } from "../../devproxy/log.js";
import { encodePairs, type Plugin } from "../../host/index.js";
import { bytesData, data, filter, messages } from "../host/support/wat.js";

const CALL = encodePairs([[":method", "GET"], [":path", "/check"], [":authority", "authz"]]);

/**
 * Each request opens a gRPC stream and a unary gRPC call and sends an http_call, then goes on;
 * the root logs "H <token>" for an HTTP answer and "<token> <status>" for each gRPC close.
 */
const wasm = filter({
  imports: ["proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream"],
  body: `${data(1100, "authz")}${data(1120, "svc")}${data(1140, "M")}${bytesData(1200, CALL)}${data(1180, "H")}
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_grpc_stream (i32.const 1100) (i32.const 5) (i32.const 1120) (i32.const 3) (i32.const 1140) (i32.const 1)
        (i32.const 0) (i32.const 0) (i32.const 320)))
      (drop (call $proxy_grpc_call (i32.const 1100) (i32.const 5) (i32.const 1120) (i32.const 3) (i32.const 1140) (i32.const 1)
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 324)))
      (drop (call $proxy_http_call (i32.const 1100) (i32.const 5) (i32.const 1200) (i32.const ${CALL.length})
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 328)))
      (i32.const 0))
    (func (export "proxy_on_http_call_response") (param i32) (param $token i32) (param i32 i32 i32)
      (call $log_mem (i32.const 1180) (i32.const 1)) (call $report (local.get $token)))
    (func (export "proxy_on_grpc_close") (param i32) (param $token i32) (param $status i32)
      (call $report (local.get $token)) (call $report (local.get $status)))`,
});

describe("dev proxy: a filter's callouts on emulated workers", () => {
  let checks = 0;
  const authz = http.createServer((req, res) => {
    checks++;
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  let printed = "";
  let set: FilterSet;
  before(async () => {
    await new Promise<void>((r) => authz.listen(0, "127.0.0.1", r));
    const path = join(mkdtempSync(join(tmpdir(), "filter-callouts-")), "plugin.wasm");
    writeFileSync(path, wasm);
    const out = new Writable({ write: (chunk, _enc, done) => ((printed += String(chunk)), done()) });
    set = new FilterSet(
      {
        filters: [{ path }],
        clusters: { authz: `http://127.0.0.1:${(authz.address() as AddressInfo).port}` },
        failOpen: false,
        vms: { concurrency: 2 },
        logLevel: "info",
        bufferLimitBytes: 1 << 20,
        verbose: false,
      },
      new Logger(out, false, false, { requests: "off" }),
    );
    set.load();
  });
  after(async () => {
    set.stop();
    await new Promise((r) => authz.close(r));
  });

  it("sends both workers' token 4, answers each on its worker, closes each gRPC call and stream, and keeps nothing after", async () => {
    const plugin: Plugin = set.slots[0].current.plugin;
    for (const worker of [0, 1]) plugin.newHttpStream(undefined, worker).sendRequestHeaders([[":path", "/"]], true);
    assert.deepEqual(plugin.pendingHttpCalls().map((c) => [c.worker, c.token]), [[0, 4], [1, 4]]);
    set.settle();
    const deadline = Date.now() + 10_000;
    while ((plugin.pendingHttpCalls().length > 0 || plugin.grpcCalls().some((c) => !c.remoteClosed)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(checks, 2);
    assert.deepEqual(plugin.pendingHttpCalls(), []);
    // The unary calls are over; the streams wait for the plugin's own close, as in Envoy.
    assert.deepEqual(plugin.grpcCalls().map((c) => [c.worker, c.token, c.kind, c.remoteClosed]), [[0, 6, "stream", true], [1, 6, "stream", true]]);
    assert.doesNotMatch(printed, /failed/);
    assert.equal((printed.match(/gRPC (call|stream) to authz svc\/M closed with UNAVAILABLE/g) ?? []).length, 4);
    // Each worker's root got its own answers: each gRPC close (14 Unavailable) and the HTTP response.
    const said = [...printed.matchAll(/ info +plugin: (.*)/g)].map((m) => m[1]);
    assert.deepEqual(said.sort(), ["04", "04", "05", "05", "06", "06", "14", "14", "14", "14", "H", "H"]);
    assert.deepEqual(messages(plugin.logs), [], "printed root-level logs are forgotten");
    const loaded = set.slots[0].current;
    assert.equal(loaded.dispatched.size, 0);
    assert.equal(loaded.grpcRefused.size, 0);
  });
});
