import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { examplePlugin } from "../support/plugins.js";

const wasm = examplePlugin("queue");
let vmIds = 0;

function counter(plugin: ReturnType<typeof createPlugin>, name: string): bigint | undefined {
  return plugin.metric(name)?.value;
}

describe("queue", () => {
  it("counts the events of two producer VMs in the consumer, by method", () => {
    const vmId = `queue-${++vmIds}`;
    const consumer = createPlugin(wasm, { rootId: "queue-consumer", vmId });
    const producers = [createPlugin(wasm, { rootId: "queue-producer", vmId }), createPlugin(wasm, { rootId: "queue-producer", vmId })];
    assert.equal(consumer.start().ok, true);
    for (const producer of producers) assert.equal(producer.start().ok, true);
    const methods = ["GET", "POST", "GET", "BREW", "get"];
    methods.forEach((method, i) => {
      const result = producers[i % 2].runHttpRequest({ requestHeaders: [[":method", method], [":path", `/${i}`]] });
      assert.equal(result.localResponse, null);
      assert.ok(result.upstreamRequest);
    });
    assert.equal(counter(consumer, "request_events_total"), 5n);
    assert.equal(counter(consumer, "request_events.method=GET"), 2n);
    assert.equal(counter(consumer, "request_events.method=POST"), 1n);
    assert.equal(counter(consumer, "request_events.method=other"), 2n);
    assert.equal(consumer.queue("request-events")?.items.length, 0);
  });

  it("lets requests through untouched while no consumer exists", () => {
    const producer = createPlugin(wasm, { rootId: "queue-producer", vmId: `queue-${++vmIds}` });
    assert.equal(producer.start().ok, true);
    const result = producer.runHttpRequest({ requestHeaders: [["x-keep", "1"]] });
    assert.equal(result.localResponse, null);
    assert.ok(result.upstreamRequest);
  });
});
