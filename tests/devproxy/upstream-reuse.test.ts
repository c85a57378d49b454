// The dev proxy keeps its upstream connections alive and uses them again, as Envoy's connection
// pools do: a finished exchange must not close the connection it used (it did, one TCP
// connection per request, which made the upstream side the dev proxy's bottleneck).
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DevProxy } from "../../devproxy/proxy.js";
import { repoRoot } from "../support/plugins.js";

describe("dev proxy: upstream connections", () => {
  let connections = 0;
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("hello from upstream"));
  });
  upstream.on("connection", () => connections++);
  let proxy: DevProxy;
  let url: string;
  const client = new http.Agent({ keepAlive: true, maxSockets: 1 });
  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = new DevProxy({
      filters: [{ path: join(repoRoot, "examples", "add-header", "build", "plugin.wasm") }],
      port: 0,
      adminPort: null,
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      requestLogging: "off",
    });
    ({ url } = await proxy.start());
  });
  after(async () => {
    client.destroy();
    await proxy.stop();
    await new Promise((r) => upstream.close(r));
  });

  it("50 requests one after the other use one upstream connection", async () => {
    for (let i = 0; i < 50; i++) {
      const body = await new Promise<string>((resolve, reject) =>
        http
          .request(`${url}/n${i}`, { method: i % 2 ? "POST" : "GET", agent: client }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve(text));
          })
          .on("error", reject)
          .end(i % 2 ? "a body" : undefined),
      );
      assert.equal(body, "hello from upstream");
    }
    assert.equal(connections, 1);
  });
});
