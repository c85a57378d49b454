// Bodies stream through the dev proxy: a 96 MB upload and a 96 MB download through the prime
// authorizer reach the other side whole while the proxy's resident memory grows by well under
// the body's size (the filters buffer nothing here). What it does grow by is garbage the GC has
// not collected yet: about 35 MB here, whatever the body size (32, 64 or 128 MB). Linux: memory
// is read from /proc.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { memoryOf, send, startUpstream, type TestUpstream } from "./hostile-support.js";
import { startProxy, type RunningProxy } from "./support.js";

const MB = 1024 * 1024;
const SIZE = 96 * MB;
/** Below the body: a proxy holding the body whole (as it once did) grows past SIZE. */
const MAX_GROWTH = 64 * MB;

describe("dev proxy: bodies stream, memory stays bounded", { skip: !existsSync("/proc/self/status") && "needs /proc" }, () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  let baseline = 0;
  let peak = 0;
  let sampler: NodeJS.Timeout;
  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy([join(repoRoot, "examples/prime-authorizer/build/plugin.wasm"), "--upstream", upstream.url]);
    // Warm up the paths once, then take the resident size as the baseline.
    await send(`${proxy.url}/warm`, { method: "POST", headers: { token: "13" }, body: Buffer.alloc(MB) });
    await send(`${proxy.url}/bytes/${MB}`, { headers: { token: "13" } });
    baseline = peak = (await memoryOf(proxy.child.pid!)).rss;
    // VmHWM would include start-up; sample the resident size while the bodies flow instead.
    sampler = setInterval(() => void memoryOf(proxy.child.pid!).then((m) => (peak = Math.max(peak, m.rss)), () => undefined), 20);
  });
  after(async () => {
    clearInterval(sampler);
    assert.equal(await proxy.stop(), 0);
    await upstream.close();
  });

  it(`a ${SIZE / MB} MB upload reaches the upstream whole`, async () => {
    const res = await send(`${proxy.url}/upload`, { method: "POST", headers: { token: "13" }, body: Buffer.alloc(SIZE, 0x75), ms: 60_000 });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.at(-1)?.bodyBytes, SIZE);
    // The filter passed the body on unchanged, in chunks the proxy took as they came: its content-length still fits.
    const stale = [JSON.stringify(proxy.events), proxy.stderr()].join("\n").match(/.*content-length still says.*/);
    assert.equal(stale, null);
  });

  it(`a ${SIZE / MB} MB download reaches the client whole`, async () => {
    const res = await send(`${proxy.url}/bytes/${SIZE}`, { headers: { token: "13" }, ms: 60_000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, SIZE);
  });

  it(`the proxy's resident memory, sampled meanwhile, grew by less than ${MAX_GROWTH / MB} MB`, async () => {
    const growth = peak - baseline;
    assert.ok(growth < MAX_GROWTH, `peak RSS grew by ${(growth / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`);
  });
});
