// Every part of the ABI through the SDK's wrappers, driven by tests/filters/abi: the configuration names the scenario.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Plugin, type PluginOptions } from "../../host/index.js";
import { headerValue, testFilter } from "../support/plugins.js";

const wasm = testFilter("abi");
let vmIds = 0;

function startedPlugin(scenario: string, options: PluginOptions = {}): Plugin {
  const plugin = createPlugin(wasm, { configuration: scenario, vmId: `abi-${++vmIds}`, ...options });
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin;
}

function messages(logs: { message: string }[]): string[] {
  return logs.map((entry) => entry.message);
}

describe("SDK: HTTP callouts", () => {
  it("sends the call, then hands the response to the context that made it", () => {
    const plugin = startedPlugin("http-call");
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/x"]], true);
    const [call] = plugin.pendingHttpCalls();
    assert.equal(call.upstream, "cluster");
    assert.deepEqual(call.headers, [[":method", "POST"], [":path", "/check"], [":authority", "cluster"], ["x-test", "1"], ["content-length", "4"]]);
    assert.equal(call.body, "ping");
    assert.deepEqual(call.trailers, [["x-trailer", "t"]]);
    assert.equal(call.timeoutMs, 1234);
    assert.equal(call.contextId, stream.id);
    assert.equal(stream.result().stopped, "paused");
    plugin.respondToHttpCall(call.token, { status: 201, headers: [["x-echo", "yes"]], body: "pong", trailers: [["x-done", "1"]] });
    const headers = stream.result().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-call-failed"), "no");
    assert.equal(headerValue(headers, "x-call-status"), "201");
    assert.equal(headerValue(headers, "x-call-header"), "yes");
    assert.equal(headerValue(headers, "x-call-body"), "pong");
    assert.equal(headerValue(headers, "x-call-trailer"), "1");
  });

  it("reports a reset as a failed call with BrokenConnection", () => {
    const result = startedPlugin("http-call").runHttpRequest({ httpCallResponses: ["fail"] });
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-call-failed"), "yes");
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-call-failure"), "11 reset");
  });

  it("drops a response for a stream that is gone", () => {
    const plugin = startedPlugin("http-call");
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([], true);
    const [call] = plugin.pendingHttpCalls();
    stream.complete();
    plugin.respondToHttpCall(call.token, { status: 200 });
    assert.equal(plugin.failed, false);
    assert.equal(plugin.runHttpRequest({ httpCallResponses: [{ status: 200 }] }).stopped, null);
  });

  it("returns BadArgument for a call without :path and :authority", () => {
    const result = startedPlugin("http-call-bad").runHttpRequest();
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-result"), "2");
    assert.equal(result.httpCalls.length, 0);
  });
});

describe("SDK: gRPC", () => {
  it("delivers a unary call's response message", () => {
    const plugin = startedPlugin("grpc-call");
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([], true);
    const [call] = plugin.grpcCalls();
    assert.equal(call.serviceName, "acme.Echo");
    assert.equal(call.method, "Say");
    assert.deepEqual(call.initialMetadata, [["x-md", "1"]]);
    assert.equal(Buffer.from(call.messages[0]).toString(), "hi");
    plugin.respondToGrpcCall(call.token, "hello back");
    const headers = stream.result().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-grpc-status"), "0");
    assert.equal(headerValue(headers, "x-grpc-message"), "hello back");
  });

  it("delivers a failed unary call's status and message", () => {
    const plugin = startedPlugin("grpc-call");
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([], true);
    plugin.failGrpcCall(plugin.grpcCalls()[0].token, 14, "unavailable");
    const headers = stream.result().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-grpc-status"), "14");
    assert.equal(headerValue(headers, "x-grpc-status-message"), "unavailable");
  });

  it("streams: sends, receives metadata and messages, then closes", () => {
    const plugin = startedPlugin("grpc-stream");
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([], true);
    const [grpc] = plugin.grpcCalls();
    assert.equal(grpc.kind, "stream");
    assert.equal(Buffer.from(grpc.messages[0]).toString(), "hello");
    plugin.receiveGrpcInitialMetadata(grpc.token, [["x-initial", "i"]]);
    plugin.receiveGrpcMessage(grpc.token, "m1");
    plugin.receiveGrpcTrailingMetadata(grpc.token, [["x-trailing", "t"]]);
    plugin.closeGrpcStream(grpc.token, 0, "done");
    const headers = stream.result().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-initial"), "i");
    assert.equal(headerValue(headers, "x-message"), "m1");
    assert.equal(headerValue(headers, "x-trailing"), "t");
    assert.equal(headerValue(headers, "x-close"), "0 done");
  });
});

describe("SDK: gRPC cancel", () => {
  it("cancels a stream: Ok, and the host forgets it", () => {
    const plugin = startedPlugin("grpc-cancel");
    const result = plugin.runHttpRequest();
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-cancel"), "0");
    assert.deepEqual(plugin.grpcCalls(), []);
  });
});

describe("SDK: shared data", () => {
  it("follows cpp-host's compare-and-swap rules", () => {
    const headers = startedPlugin("shared-data").runHttpRequest().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-absent"), "1", "NotFound before the first set");
    assert.equal(headerValue(headers, "x-create"), "0", "creation accepts any CAS");
    assert.equal(headerValue(headers, "x-read"), "v1");
    assert.equal(headerValue(headers, "x-update"), "0");
    assert.equal(headerValue(headers, "x-stale"), "8", "a stale CAS is CasMismatch");
    assert.equal(headerValue(headers, "x-unconditional"), "0", "CAS 0 writes unconditionally");
    assert.equal(headerValue(headers, "x-final"), "v4");
    assert.equal(headerValue(headers, "x-counter"), "0 5");
    assert.equal(headerValue(headers, "x-race"), "0 rival+mine", "creating a key never overwrites one another VM created meanwhile");
  });

  it("shares the store between VMs with the same vm_id", () => {
    const first = startedPlugin("shared-data", { vmId: "abi-shared" });
    const second = startedPlugin("none", { vmId: "abi-shared" });
    first.runHttpRequest();
    assert.equal(second.sharedData("abi/counter")?.text, "5");
    assert.equal(startedPlugin("none").sharedData("abi/counter"), undefined);
  });
});

describe("SDK: queues", () => {
  it("resolves, enqueues, and delivers onQueueReady to the registering root", () => {
    const plugin = startedPlugin("queue");
    const result = plugin.runHttpRequest();
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-resolved"), "yes");
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-unknown-queue"), "null");
    const logged = messages([...plugin.logs, ...result.logs]);
    assert.ok(logged.includes("dequeued one") && logged.includes("dequeued two"), logged.join("\n"));
    assert.ok(logged.includes("queue empty: yes"));
  });
});

describe("SDK: timers", () => {
  it("ticks at the period and stops when it is set to 0", () => {
    const plugin = startedPlugin("tick");
    assert.equal(plugin.tickPeriodMs, 100);
    plugin.advanceTime(1000);
    const ticks = messages(plugin.logs).filter((message) => message.startsWith("tick "));
    assert.deepEqual(ticks, ["tick 1", "tick 2", "tick 3"]);
    assert.equal(plugin.tickPeriodMs, 0);
  });
});

describe("SDK: metrics", () => {
  it("defines, updates and reads metrics with Envoy's rules", () => {
    const plugin = startedPlugin("metrics");
    const headers = plugin.runHttpRequest().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-defined"), "yes");
    assert.equal(headerValue(headers, "x-counter-add"), "0");
    assert.equal(headerValue(headers, "x-counter-zero"), "2", "a counter increment of 0 is BadArgument");
    assert.equal(headerValue(headers, "x-counter-value"), "2");
    assert.equal(headerValue(headers, "x-gauge-down"), "0");
    assert.equal(headerValue(headers, "x-gauge-value"), "7");
    assert.equal(headerValue(headers, "x-histogram-record"), "0");
    assert.deepEqual(plugin.metric("abi_latency_ms")?.samples, [42n]);
  });
});

describe("SDK: foreign functions", () => {
  it("calls a host function by name, and NotFound for an unknown one", () => {
    const plugin = startedPlugin("foreign");
    plugin.registerForeignFunction("reverse", (args: Uint8Array) => Buffer.from(Buffer.from(args).toString().split("").reverse().join("")));
    const headers = plugin.runHttpRequest().upstreamRequest!.headers;
    assert.equal(headerValue(headers, "x-foreign"), "cba");
    assert.equal(headerValue(headers, "x-missing-foreign"), "1");
  });
});

describe("SDK: TCP", () => {
  it("sees the connection's data, rewrites it, and closes on request", () => {
    const plugin = startedPlugin("tcp");
    const passed = plugin.runTcpConnection({ downstreamData: ["ab", "cd"], upstreamData: ["ok"] });
    assert.equal(passed.upstreamData, "[ab][cd]");
    assert.equal(passed.downstreamData, "ok");
    const logged = messages(passed.logs);
    assert.equal(logged[0], "new connection");
    assert.ok(logged.includes("upstream sent 2 bytes, end"), logged.join("\n"));
    assert.ok(logged.indexOf("connection done") < logged.indexOf("connection log"), "Envoy calls on_done before on_log for TCP");
    const closed = plugin.runTcpConnection({ downstreamData: ["please close"] });
    assert.equal(closed.closedBy, "plugin");
    assert.equal(closed.upstreamData, "");
  });
});

describe("SDK: shutdown", () => {
  it("defers a root's deletion until it calls done()", () => {
    const plugin = startedPlugin("done-later");
    const shutdown = plugin.shutdown();
    assert.equal(shutdown.done, false);
    assert.equal(shutdown.deleted, false);
    assert.equal(plugin.state, "draining");
    plugin.advanceTime(20);
    assert.equal(plugin.state, "deleted");
  });

  it("deletes a root right away when onDone returns true", () => {
    const shutdown = startedPlugin("none").shutdown();
    assert.deepEqual([shutdown.done, shutdown.deleted], [true, true]);
  });
});
