// The chain driver holds nothing a filter passed on: every chunk goes to the next hop and is
// dropped from the filter's stream, so a long body through a chain that buffers nothing leaves
// every stream empty after every chunk (memory follows what filters buffer, not the body).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Exchange } from "../../devproxy/exchange.js";
import { createPlugin } from "../../host/index.js";
import { repoRoot } from "../support/plugins.js";

describe("chain driver: streaming", () => {
  it("passes 1,000 chunks through two filters and holds none of them", () => {
    const plugins = ["add-header", "prime-authorizer"].map((name) => {
      const p = createPlugin(readFileSync(join(repoRoot, "examples", name, "build", "plugin.wasm")));
      assert.ok(p.start().ok);
      return { name, plugin: p };
    });
    let upstreamBytes = 0;
    let upstreamEnded = false;
    const noop = () => undefined;
    const exchange = new Exchange(plugins, {}, {
      upstreamHeaders: noop,
      upstreamBody: (chunk, eos) => {
        upstreamBytes += chunk.length;
        upstreamEnded ||= eos;
      },
      upstreamTrailers: noop,
      abortUpstream: noop,
      clientHeaders: noop,
      clientBody: noop,
      clientTrailers: noop,
      reset: noop,
    });
    exchange.requestHeaders([[":method", "POST"], [":path", "/"], [":authority", "x"], ["token", "13"]], false);
    const chunk = new Uint8Array(16 * 1024).fill(7);
    for (let i = 0; i < 1000; i++) {
      exchange.requestBody(chunk, i === 999);
      assert.equal(exchange.held("request"), 0, `chunk ${i}`);
      for (const s of exchange.streams) assert.equal(s.forwarded("request").body.length, 0, `chunk ${i}`);
    }
    assert.equal(upstreamBytes, 1000 * chunk.length);
    assert.ok(upstreamEnded);
    exchange.finish();
  });
});
