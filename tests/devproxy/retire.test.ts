// A reloaded filter's old version whose root defers its shutdown. cpp-host's startShutdown keeps a
// root whose on_done answered false in pending_done_, and Envoy's Wasm::tickHandler still finds it
// (getContext) and ticks it, until proxy_done (wasm.cc done(), then on_delete) or until its VM goes
// (~WasmBase drops it, without on_delete): Envoy sets no time limit. The dev proxy keeps ticking it
// and drops it after its own limit, with a warning.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { FilterSet } from "../../devproxy/filters.js";
import { Logger } from "../../devproxy/log.js";
import { encodePairs } from "../../host/index.js";
import { bytesData, data, filter, messages } from "../host/support/wat.js";

/**
 * Ticks every 10 ms; on_done logs 90 and answers false; once draining, each tick logs 91 and, when
 * `callsDone`, the result of proxy_done (00 = Ok); on_delete logs 99.
 */
const draining = (callsDone: boolean) =>
  filter({
    imports: ["proxy_done", "proxy_set_tick_period_milliseconds"],
    body: `(global $draining (mut i32) (i32.const 0))
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
      (func (export "proxy_on_done") (param i32) (result i32)
        (global.set $draining (i32.const 1)) (call $report (i32.const 90)) (i32.const 0))
      (func (export "proxy_on_tick") (param i32)
        (if (global.get $draining) (then
          (call $report (i32.const 91))
          ${callsDone ? "(call $report (call $proxy_done))" : ""})))
      (func (export "proxy_on_delete") (param i32) (call $report (i32.const 99)))`,
  });

const CALL = encodePairs([[":method", "GET"], [":path", "/flush"], [":authority", "slow"]]);

/**
 * Like `draining(true)`, but its first tick once draining sends an http_call to cluster "slow" and
 * the answer (logged 70) calls proxy_done.
 */
const flushing = filter({
  imports: ["proxy_done", "proxy_set_tick_period_milliseconds", "proxy_http_call"],
  body: `${data(1100, "slow")}${bytesData(1200, CALL)}
    (global $draining (mut i32) (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
    (func (export "proxy_on_done") (param i32) (result i32)
      (global.set $draining (i32.const 1)) (call $report (i32.const 90)) (i32.const 0))
    (func (export "proxy_on_tick") (param i32)
      (if (i32.eq (global.get $draining) (i32.const 1)) (then
        (global.set $draining (i32.const 2))
        (call $report (call $proxy_http_call (i32.const 1100) (i32.const 4) (i32.const 1200) (i32.const ${CALL.length})
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 320))))))
    (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
      (call $report (i32.const 70)) (call $report (call $proxy_done)))
    (func (export "proxy_on_delete") (param i32) (call $report (i32.const 99)))`,
});

/** The next version: any other module. */
const replacement = filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))` });

describe("dev proxy: retiring a version whose on_done answers false", () => {
  let set: FilterSet | null = null;
  afterEach(() => set?.stop());

  function load(wasm: Uint8Array, drainLimitMs?: number, clusters: Record<string, string> = {}): { set: FilterSet; printed: () => string[] } {
    const path = join(mkdtempSync(join(tmpdir(), "retire-")), "plugin.wasm");
    writeFileSync(path, wasm);
    let printed = "";
    const out = new Writable({ write: (chunk, _enc, done) => ((printed += String(chunk)), done()) });
    set = new FilterSet(
      { filters: [{ path, name: "drainer" }], clusters, failOpen: false, vms: { concurrency: 1 }, logLevel: "info", bufferLimitBytes: 1 << 20, verbose: false, drainLimitMs },
      new Logger(out, false, false, { requests: "off" }),
    );
    set.load();
    set.settle();
    return { set, printed: () => printed.split("\n").filter((l) => l !== "") };
  }

  /** What the plugin itself printed ("drainer: 91" lines), in order. */
  const said = (lines: string[]) => lines.map((l) => / drainer: (\d\d)$/.exec(l)?.[1]).filter((m) => m !== undefined);

  async function until(what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("keeps ticking it until its tick calls proxy_done, then runs on_delete and stops its timer", async () => {
    const { set, printed } = load(draining(true));
    const old = set.slots[0].current;
    set.reloadWith(0, replacement);
    assert.equal(set.slots[0].current.version, 2);
    await until("on_delete of version 1", () => said(printed()).includes("99"));
    assert.deepEqual(said(printed()), ["90", "91", "00", "99"]);
    assert.equal(old.plugin.state, "deleted");
    assert.equal(old.tickTimer, null, "a deleted root's timer is stopped");
    assert.doesNotMatch(printed().join("\n"), /warn|error/);
  });

  it("drops it without on_delete when it never calls proxy_done, after the limit, with a warning", async () => {
    const { set, printed } = load(draining(false), 150);
    const old = set.slots[0].current;
    set.reloadWith(0, replacement);
    await until("the drain limit's warning", () => printed().some((l) => / warn /.test(l)));
    const warning = printed().filter((l) => / warn /.test(l));
    assert.equal(warning.length, 1);
    assert.match(
      warning[0],
      /warn +drainer: version 1 answered false to on_done and did not call proxy_done within 150 ms: dropped without on_delete \(the dev proxy's limit; Envoy sets none/,
    );
    const ticks = said(printed()).filter((m) => m === "91").length;
    assert.ok(ticks >= 2, `it was ticked while draining (${ticks} ticks)`);
    assert.ok(!said(printed()).includes("99"), "no on_delete");
    assert.equal(old.plugin.state, "draining");
    assert.equal(old.tickTimer, null);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(said(printed()).filter((m) => m === "91").length, ticks, "no tick after it was dropped");
  });

  it("keeps its callouts while draining, and delivers none after it was dropped (its VM is gone, as ~Context cancels them)", async () => {
    let answer: (() => void) | null = null;
    const slow = http.createServer((_req, res) => (answer = () => res.end("ok")));
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    try {
      const { set, printed } = load(flushing, 150, { slow: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` });
      const old = set.slots[0].current;
      set.reloadWith(0, replacement);
      await until("the flush call to reach the server", () => answer !== null);
      assert.equal(old.callouts, 1, "the draining version's call was sent");
      await until("the drain limit's warning", () => printed().some((l) => / warn /.test(l)));
      answer!();
      await until("the answer to be consumed", () => old.callouts === 0);
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(said(printed()), ["90", "00"], "on_done, then the call (Ok)");
      assert.deepEqual(messages(old.plugin.logs), [], "the dropped VM got no answer, so no proxy_done and no on_delete");
      assert.equal(old.plugin.state, "draining");
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });
});
