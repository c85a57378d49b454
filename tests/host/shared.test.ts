// Shared data and queues scoped by vm_id and shared by every VM with that id (cpp-host
// shared_data.cc, shared_queue.cc). Two Plugin instances with one vmId model two worker threads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, WasmResult } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

let seq = 0;
const uniqueVmId = () => `shared-${process.pid}-${++seq}`;

describe("shared data across VMs", () => {
  const writer = filter({
    imports: ["proxy_set_shared_data"],
    body: `${data(1024, "k")}${data(1030, "from-a")}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $report (call $proxy_set_shared_data (i32.const 1024) (i32.const 1) (i32.const 1030) (i32.const 6) (i32.const 0)))
        (i32.const 1))`,
  });
  const reader = filter({
    imports: ["proxy_get_shared_data", "proxy_set_shared_data"],
    body: `${data(1024, "k")}${data(1030, "from-b")}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $report (call $proxy_get_shared_data (i32.const 1024) (i32.const 1) (i32.const 300) (i32.const 304) (i32.const 308)))
        (call $log_out)
        ;; a cas other than the current one (and not 0) is a mismatch
        (call $report (call $proxy_set_shared_data (i32.const 1024) (i32.const 1) (i32.const 1030) (i32.const 6) (i32.add (i32.load (i32.const 308)) (i32.const 1))))
        (call $report (call $proxy_set_shared_data (i32.const 1024) (i32.const 1) (i32.const 1030) (i32.const 6) (i32.load (i32.const 308))))
        (i32.const 1))`,
  });

  it("shares one store per vm_id between plugins, with a global CAS; other vm_ids do not see it", () => {
    const vmId = uniqueVmId();
    const a = createPlugin(writer, { vmId });
    assert.deepEqual(messages(a.start().logs), ["00"]);
    const casA = a.sharedData("k")!.cas;
    const b = createPlugin(reader, { vmId });
    assert.deepEqual(messages(b.start().logs), ["00", "from-a", "08", "00"]);
    assert.equal(a.sharedData("k")?.text, "from-b", "B's write is A's too");
    assert.ok(a.sharedData("k")!.cas > casA);
    const other = createPlugin(reader, { vmId: uniqueVmId() });
    // NOT_FOUND in another vm_id; then creating the key there is accepted whatever the cas
    assert.deepEqual(messages(other.start().logs), ["01", "", "00", "00"]);
    assert.equal(other.sharedData("k")?.text, "from-b");
    assert.equal(a.sharedData("k")?.text, "from-b");
    assert.equal(a.setSharedData("k", "test", 1), WasmResult.CasMismatch);
    assert.equal(a.setSharedData("k", "test", 0), WasmResult.Ok);
    assert.deepEqual(Object.keys(b.sharedDataEntries()), ["k"]);
  });
});

describe("shared queues", () => {
  const consumer = filter({
    imports: ["proxy_register_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue"],
    body: `${data(1024, "q")}${data(1030, "self")}${data(1040, "after-enqueue")}
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $report (call $proxy_register_shared_queue (i32.const 1024) (i32.const 1) (i32.const 320)))
        (call $report (call $proxy_enqueue_shared_queue (i32.load (i32.const 320)) (i32.const 1030) (i32.const 4)))
        (call $log_mem (i32.const 1040) (i32.const 13))
        (i32.const 1))
      (func (export "proxy_on_queue_ready") (param $root i32) (param $token i32)
        (call $report (local.get $root))
        (call $report (call $proxy_dequeue_shared_queue (local.get $token) (i32.const 300) (i32.const 304)))
        (call $log_out)
        (call $report (call $proxy_dequeue_shared_queue (local.get $token) (i32.const 300) (i32.const 304))))`,
  });
  /** The producer resolves under `vmIdArg` ("" = its own vm_id), written at 2000 with its length at 1996. */
  const producerFor = (vmIdArg: string) => {
    const bytes = new TextEncoder().encode(vmIdArg);
    const len = new Uint8Array(new Uint32Array([bytes.length]).buffer);
    return filter({
      imports: ["proxy_resolve_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue"],
      body: `(data (i32.const 1996) "${[...len].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("")}")${vmIdArg ? data(2000, vmIdArg) : ""}
        ${producerBody}`,
    });
  };
  const producerBody = `${data(1024, "q")}${data(1030, "from-b")}${data(1040, "nope")}
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (call $report (call $proxy_resolve_shared_queue (i32.const 2000) (i32.load (i32.const 1996)) (i32.const 1024) (i32.const 1) (i32.const 320)))
        (call $report (call $proxy_enqueue_shared_queue (i32.load (i32.const 320)) (i32.const 1030) (i32.const 6)))
        (call $report (call $proxy_resolve_shared_queue (i32.const 2000) (i32.load (i32.const 1996)) (i32.const 1040) (i32.const 4) (i32.const 324)))
        (call $report (call $proxy_enqueue_shared_queue (i32.const 999) (i32.const 1030) (i32.const 6)))
        (call $report (call $proxy_dequeue_shared_queue (i32.const 999) (i32.const 300) (i32.const 304)))
        (i32.const 0))`;

  it("notifies the registering root asynchronously, after the operation that enqueued; EMPTY when drained", () => {
    const a = createPlugin(consumer, { vmId: uniqueVmId() });
    assert.deepEqual(messages(a.start().logs), ["00", "00", "after-enqueue", "01", "00", "self", "07"]);
  });

  it("resolves a queue from another plugin of the same vm_id (empty vm_id) and from another vm_id", () => {
    const vmId = uniqueVmId();
    const a = createPlugin(consumer, { vmId });
    a.start();
    a.logs.length = 0;
    const sameVm = createPlugin(producerFor(""), { vmId });
    sameVm.start();
    // resolve OK, enqueue OK, unknown queue NOT_FOUND, bad token NOT_FOUND (enqueue and dequeue)
    assert.deepEqual(messages(sameVm.runHttpRequest().logs), ["00", "00", "01", "01", "01"]);
    assert.deepEqual(messages(a.logs), ["01", "00", "from-b", "07"], "A's root got on_queue_ready in A's VM");
    const otherVm = createPlugin(producerFor(vmId), { vmId: uniqueVmId() });
    otherVm.start();
    assert.deepEqual(messages(otherVm.runHttpRequest().logs).slice(0, 2), ["00", "00"]);
    assert.deepEqual(messages(a.logs).slice(4), ["01", "00", "from-b", "07"]);
    const unrelated = createPlugin(producerFor(""), { vmId: uniqueVmId() });
    unrelated.start();
    assert.deepEqual(messages(unrelated.runHttpRequest().logs).slice(0, 1), ["01"], "NOT_FOUND under its own vm_id");
  });

  it("lets a test inspect and feed a queue", () => {
    const vmId = uniqueVmId();
    const a = createPlugin(consumer, { vmId });
    a.start();
    assert.deepEqual(a.queue("q")?.items, []);
    a.logs.length = 0;
    assert.equal(a.enqueue("q", "from-test"), WasmResult.Ok);
    assert.deepEqual(messages(a.logs), ["01", "00", "from-test", "07"]);
    assert.equal(a.enqueue("unknown", "x"), WasmResult.NotFound);
    assert.equal(a.queue("unknown"), undefined);
  });
});

describe("metrics (Envoy rules)", () => {
  it("adds and subtracts on gauges, adds on counter record, and is NOT_FOUND for an unknown id", () => {
    const wasm = filter({
      imports: ["proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric"],
      body: `${data(1024, "g")}${data(1030, "c")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (drop (call $proxy_define_metric (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 300)))
          (drop (call $proxy_define_metric (i32.const 0) (i32.const 1030) (i32.const 1) (i32.const 304)))
          (call $report (i32.load (i32.const 300)))
          (call $report (call $proxy_record_metric (i32.load (i32.const 300)) (i64.const 10)))
          (call $report (call $proxy_increment_metric (i32.load (i32.const 300)) (i64.const -3)))
          (call $report (call $proxy_record_metric (i32.load (i32.const 304)) (i64.const 4)))
          (call $report (call $proxy_record_metric (i32.load (i32.const 304)) (i64.const 4)))
          (call $report (call $proxy_increment_metric (i32.const 404) (i64.const 1)))
          (call $report (call $proxy_record_metric (i32.const 404) (i64.const 1)))
          (i32.const 1))`,
    });
    const plugin = createPlugin(wasm);
    assert.deepEqual(messages(plugin.start().logs), ["05", "00", "00", "00", "00", "01", "01"]);
    assert.equal(plugin.metric("g")?.value, 7n);
    assert.equal(plugin.metric("c", "counter")?.value, 8n);
  });
});
