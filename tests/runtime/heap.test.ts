// The SDK's runtime (assembly/runtime/heap.ts), driven by tests/filters/heap: objects that live across
// collections stay intact (a 3,000-node list deeper than the marker's recursion, buffers of every
// size class, host buffers), garbage is reused, and memory stops growing once the workload is steady.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPlugin, type Plugin } from "../../host/index.js";
import { headerValue, testFilter } from "../support/plugins.js";

function startedPlugin(): Plugin {
  const plugin = createPlugin(testFilter("heap"));
  const start = plugin.start();
  assert.equal(start.ok, true, `start failed: ${start.error}`);
  return plugin;
}

function request(plugin: Plugin, size: number, grow: number, body = ""): [string, string][] {
  const stream = plugin.newHttpStream();
  stream.sendRequestHeaders([[":path", "/"], ["x-size", String(size)], ["x-grow", String(grow)]], body.length === 0);
  if (body.length > 0) stream.sendRequestBody(body, true);
  stream.sendResponseHeaders([[":status", "200"]], true);
  stream.complete();
  return stream.result().downstreamResponse?.headers ?? [];
}

describe("runtime: mark and sweep over size classes", () => {
  it("keeps a list deeper than the marker's recursion intact across collections, then frees it", () => {
    const plugin = startedPlugin();
    let longest = 0;
    for (let i = 0; i < 400; i++) {
      const headers = request(plugin, 64, 25);
      assert.equal(headerValue(headers, "x-heap"), "ok", `request ${i}`);
      longest = Math.max(longest, Number(headerValue(headers, "x-list")));
    }
    assert.ok(longest > 2900, `the list reached ${longest} nodes`);
    assert.equal(plugin.failed, false);
  });

  it("keeps stream objects of every size class, from 1 byte to 1 MiB, intact between callbacks", () => {
    const plugin = startedPlugin();
    for (let size = 1; size <= 1 << 20; size *= 3) {
      const headers = request(plugin, size, 1);
      assert.equal(headerValue(headers, "x-heap"), "ok", `size ${size}`);
    }
  });

  it("hands request bodies over intact (pinned host buffers)", () => {
    const plugin = startedPlugin();
    for (let i = 0; i < 200; i++) {
      const body = "b".repeat(1 + ((i * 7919) % 70_000));
      const headers = request(plugin, 16, 0, body);
      assert.equal(headerValue(headers, "x-body"), String(body.length));
      assert.equal(headerValue(headers, "x-heap"), "ok");
    }
  });

  it("collects during a long stream once enough was allocated, not only every so many callbacks", () => {
    const plugin = startedPlugin();
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders([[":path", "/upload"], ["x-size", "16"]], false);
    const chunk = "c".repeat(60_000);
    for (let i = 0; i < 200; i++) stream.sendRequestBody(chunk, false); // 12 MB read in one stream
    stream.sendRequestBody("", true);
    stream.sendResponseHeaders([[":status", "200"]], true);
    stream.complete();
    assert.equal(headerValue(stream.result().downstreamResponse?.headers, "x-body"), String(200 * 60_000));
    assert.ok(plugin.memoryPages < 32, `${plugin.memoryPages} pages after reading 12 MB in 60 kB chunks`);
  });

  it("reaches a fixed memory size under a steady mixed workload", () => {
    const plugin = startedPlugin();
    const round = () => {
      for (let i = 0; i < 500; i++) request(plugin, [16, 300, 5_000, 40_000][i % 4], 10, i % 5 === 0 ? "x".repeat(2_000) : "");
    };
    for (let i = 0; i < 3; i++) round();
    const settled = plugin.memoryPages;
    for (let i = 0; i < 6; i++) round();
    assert.equal(plugin.memoryPages, settled, `grew from ${settled} pages to ${plugin.memoryPages}`);
    assert.equal(plugin.failed, false);
  });
});
