import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin } from "../../host/index.js";
import { examplePlugin, headerValue } from "../support/plugins.js";

const wasm = examplePlugin("grpc-call");
const CONFIG = '{"cluster": "checker", "service": "acme.Checker", "method": "Check", "timeoutMs": 300}';

function started() {
  const plugin = createPlugin(wasm, { configuration: CONFIG, clusters: ["checker"] });
  assert.equal(plugin.start().ok, true);
  const stream = plugin.newHttpStream();
  stream.sendRequestHeaders([[":method", "POST"], [":path", "/orders"], [":authority", "shop"]], true);
  const [call] = plugin.grpcCalls();
  return { plugin, stream, call };
}

describe("grpc-call", () => {
  it("calls the configured method with the request's path and method as protobuf", () => {
    const { call, stream } = started();
    assert.equal(call.kind, "call");
    assert.equal(call.upstream, "checker");
    assert.equal(call.serviceName, "acme.Checker");
    assert.equal(call.method, "Check");
    assert.equal(call.timeoutMs, 300);
    // field 1 (path) and field 2 (method), length-delimited
    assert.deepEqual([...call.messages[0]], [0x0a, 7, ...Buffer.from("/orders"), 0x12, 4, ...Buffer.from("POST")]);
    assert.equal(stream.result().stopped, "paused");
  });

  it("lets the request continue on OK", () => {
    const { plugin, stream, call } = started();
    plugin.respondToGrpcCall(call.token, new Uint8Array([8, 1]));
    const result = stream.result();
    assert.equal(result.localResponse, null);
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-grpc-check"), "ok");
  });

  it("answers 403 for PERMISSION_DENIED and UNAUTHENTICATED, 503 otherwise", () => {
    for (const [status, expected] of [[7, 403], [16, 403], [14, 503], [4, 503], [13, 503]]) {
      const { plugin, stream, call } = started();
      plugin.failGrpcCall(call.token, status, "no");
      assert.equal(stream.result().localResponse?.status, expected, `gRPC status ${status}`);
      assert.equal(stream.result().upstreamRequest, null);
    }
  });

  it("refuses a configuration that misses the cluster, service or method", () => {
    for (const configuration of ["", "{}", '{"cluster": "c", "service": "s"}', '{"cluster": "c", "service": "s", "method": ""}', '{"cluster": "c", "service": "s", "method": "m", "timeoutMs": -1}',
      '{"cluster": "c", "service": "s", "method": "m", "timeout": 5}']) {
      assert.equal(createPlugin(wasm, { configuration }).start().ok, false, configuration);
    }
  });
});
