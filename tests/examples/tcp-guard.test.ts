import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type TcpSpec } from "../../host/index.js";
import { examplePlugin } from "../support/plugins.js";

const wasm = examplePlugin("tcp-guard");

function connection(spec: TcpSpec) {
  const plugin = createPlugin(wasm, { configuration: '{"pattern": "DROP TABLE"}' });
  assert.equal(plugin.start().ok, true);
  return { plugin, result: plugin.runTcpConnection(spec) };
}

describe("tcp-guard", () => {
  it("passes clean traffic both ways and counts the bytes", () => {
    const { plugin, result } = connection({ downstreamData: ["SELECT 1;", "SELECT 2;"], upstreamData: ["one row"] });
    assert.equal(result.upstreamData, "SELECT 1;SELECT 2;");
    assert.equal(result.downstreamData, "one row");
    assert.equal(result.closedBy === "plugin", false);
    assert.equal(plugin.metric("tcp_guard.downstream_bytes")?.value, 18n);
    assert.equal(plugin.metric("tcp_guard.upstream_bytes")?.value, 7n);
  });

  it("closes a connection that sends the pattern", () => {
    const { plugin, result } = connection({ downstreamData: ["SELECT 1; DROP TABLE users;"] });
    assert.equal(result.closedBy, "plugin");
    assert.equal(result.upstreamData, "");
    assert.equal(plugin.metric("tcp_guard.closed_connections")?.value, 1n);
  });

  it("finds the pattern split across reads", () => {
    const { result } = connection({ downstreamData: ["SELECT 1; DR", "OP", " TA", "BLE users;"] });
    assert.equal(result.closedBy, "plugin");
    assert.equal(result.upstreamData, "SELECT 1; DROP TA");
  });

  it("refuses a missing, empty or oversized pattern", () => {
    for (const configuration of ["", "{}", '{"pattern": ""}', '{"pattern": 5}', JSON.stringify({ pattern: "x".repeat(1025) }), '{"pattern": "x", "patern": "y"}']) {
      assert.equal(createPlugin(wasm, { configuration }).start().ok, false, configuration);
    }
  });
});
