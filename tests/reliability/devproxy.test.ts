// The dev proxy under traps and oversized headers (devproxy/ is owned by its engineer; these pin
// what it already does): a trapping filter fails closed with 503 and its log names the callback
// and the AssemblyScript abort message with file and line; it binds loopback by default; it caps
// request header sizes.

import assert from "node:assert/strict";
import { request } from "node:http";
import { after, describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { startProxy, type RunningProxy } from "../devproxy/support.js";

function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("dev proxy: traps, loopback, header caps", () => {
  const running: RunningProxy[] = [];
  after(async () => {
    for (const p of running) await p.stop();
  });

  it("a filter that traps mid-stream: 503, a log naming the callback and the abort message with file and line; the proxy keeps serving", async () => {
    const proxy = await startProxy([`${repoRoot}tests/filters/reliability/build/plugin.wasm`, "--config", "trap-body"]);
    running.push(proxy);
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+/, "binds loopback by default");
    const ok = await send(`${proxy.url}/`, { method: "POST", body: "fine" });
    assert.equal(ok.status, 200);
    const trapped = await send(`${proxy.url}/`, { method: "POST", body: "TRAP" });
    assert.equal(trapped.status, 503);
    await proxy.waitFor((e) => e.event === "request" && e.status === 503);
    const text = JSON.stringify(proxy.events) + proxy.stderr();
    assert.match(text, /proxy_on_request_body/);
    assert.match(text, /trap requested in the request body at assembly\/index\.ts:\d+:\d+/);
    const after = await send(`${proxy.url}/`, {});
    assert.equal(after.status, 503, "the failed VM fails closed for later requests too");
  });

  it("caps request header sizes: 431 for a 100 KiB header", async () => {
    const proxy = await startProxy([`${repoRoot}examples/add-header/build/plugin.wasm`]);
    running.push(proxy);
    const res = await send(`${proxy.url}/`, { headers: { "x-big": "a".repeat(100 * 1024) } }).catch((e: Error) => ({ status: -1, body: e.message }));
    assert.ok(res.status === 431 || res.status === -1, `status ${res.status}`);
    assert.equal((await send(`${proxy.url}/`, {})).status, 200, "still serving");
  });
});
