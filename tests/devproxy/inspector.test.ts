// The inspector's routes on the admin port without a browser: the event stream and the snapshot
// carry each request's trace (phases, header diff, callout with cluster, status and latency,
// local reply), a flood leaves only the last requests in memory, and the other admin routes work.

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RequestEnd } from "../../devproxy/inspector/events.js";
import type { Snapshot } from "../../devproxy/inspector/model.js";
import { repoRoot } from "../support/plugins.js";
import { startProxy, type RunningProxy } from "./support.js";

const example = (name: string) => join(repoRoot, "examples", name, "build", "plugin.wasm");

/** Reads Server-Sent Events from `url` until `until` returns true for one; resolves with it. */
function nextEvent(url: string, until: (name: string, data: unknown) => boolean, ms = 15_000): { event: Promise<unknown>; ready: Promise<void>; close(): void } {
  let req: http.ClientRequest;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const event = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching event")), ms);
    req = http.get(url, (res) => {
      assert.equal(res.headers["content-type"], "text/event-stream");
      let buffered = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name === "snapshot") markReady();
          if (data !== undefined && until(name, JSON.parse(data))) {
            clearTimeout(timer);
            resolve(JSON.parse(data));
            req.destroy();
          }
        }
      });
    });
    req.on("error", () => {});
  });
  return { event, ready, close: () => req.destroy() };
}

describe("inspector: http-auth's callout, header diff and local reply, live and in the snapshot", () => {
  let proxy: RunningProxy;
  let auth: http.Server;
  before(async () => {
    auth = http.createServer((req, res) => {
      setTimeout(() => {
        if (req.headers.authorization === "Bearer good") res.writeHead(200, { "x-auth-user": "alice" }).end();
        else res.writeHead(401).end();
      }, 40);
    });
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
    const authPort = (auth.address() as AddressInfo).port;
    proxy = await startProxy([example("http-auth"), "--config", '{"cluster": "auth"}', "--cluster", `auth=http://127.0.0.1:${authPort}`]);
  });
  after(async () => {
    assert.equal(await proxy.stop(), 0);
    await new Promise((r) => auth.close(r));
  });

  it("streams a request's trace: phases, the replaced header, the callout's cluster, status and latency", async () => {
    const stream = nextEvent(`${proxy.admin}/inspector/events`, (name, data) => name === "update" && (data as { requests: RequestEnd[] }).requests.some((r) => r.path === "/private"));
    await stream.ready;
    const res = await fetch(`${proxy.url}/private`, { headers: { authorization: "Bearer good", "x-auth-user": "mallory" } });
    assert.equal(res.status, 200);
    const update = (await stream.event) as { requests: RequestEnd[] };
    const request = update.requests.find((r) => r.path === "/private")!;
    assert.match(request.id, /^\d+$/, "one worker: request ids read as a single thread's");
    assert.equal(request.status, 200);
    assert.equal(request.method, "GET");
    const [f] = request.filters;
    assert.equal(f.name, "http-auth");
    const headers = f.phases.find((p) => p.phase === "request_headers")!;
    assert.equal(headers.result, "StopAllIterationAndWatermark");
    assert.ok(headers.wasmMs >= 0);
    assert.deepEqual(headers.diff, { added: [], replaced: [["x-auth-user", "mallory", "alice"]], removed: [], omitted: 0 });
    assert.deepEqual(
      f.phases.map((p) => p.phase),
      ["request_headers", "response_headers", "response_body", "log", "done", "delete"],
    );
    assert.equal(f.callouts.length, 1);
    const [callout] = f.callouts;
    assert.deepEqual({ ...callout, ms: 0 }, { cluster: "auth", method: "GET", path: "/check", status: 200, ms: 0 });
    assert.ok(callout.ms >= 35, `callout latency ${callout.ms} ms (the auth server waits 40 ms)`);
    assert.ok(f.body.responseIn > 0 && f.body.responseIn === f.body.responseOut);
  });

  it("records a local reply after a callout, in the snapshot", async () => {
    const res = await fetch(`${proxy.url}/denied`, { headers: { authorization: "Bearer bad" } });
    assert.equal(res.status, 401);
    await proxy.waitFor((e) => e.event === "request" && e.path === "/denied");
    const snapshot = (await (await fetch(`${proxy.admin}/inspector/state`)).json()) as Snapshot;
    const request = snapshot.requests.find((r) => r.path === "/denied")!;
    assert.deepEqual(request.endedBy, { filter: "http-auth", how: "local_response" });
    const [f] = request.filters;
    assert.equal(f.stopped, "local_response");
    assert.deepEqual({ status: f.localReply?.status, body: f.localReply?.body }, { status: 401, body: "Unauthorized." });
    assert.equal(f.callouts[0].status, 401);
    assert.ok(snapshot.phases.some((p) => p.filter === "http-auth" && p.phase === "request_headers" && p.count >= 2));
    assert.ok(snapshot.memory.some((m) => m.vm === "http-auth v1" && m.pages > 0 && m.bytes === m.pages * 65536 && m.leak === null));
  });

  it("keeps only the last 200 requests however many go through", async () => {
    // Two credentials: http-auth refuses at once (400), no callout, so the flood is quick.
    const { hostname, port } = new URL(proxy.url);
    const refused = () =>
      new Promise<number>((resolve, reject) =>
        http
          .get({ hostname, port, path: "/flood", headers: ["host", "inspector.test", "authorization", "Bearer a", "authorization", "Bearer b"] }, (res) => res.resume().on("end", () => resolve(res.statusCode!)))
          .on("error", reject),
      );
    const total = 260;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        sent++;
        assert.equal(await refused(), 400);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    await proxy.waitFor(() => proxy.events.filter((e) => e.event === "request" && e.path === "/flood").length === total);
    const snapshot = (await (await fetch(`${proxy.admin}/inspector/state`)).json()) as Snapshot;
    assert.equal(snapshot.requests.length, 200);
    assert.ok(snapshot.total >= total + 2, String(snapshot.total));
    assert.ok(snapshot.requests.every((r) => r.path === "/flood"), "the oldest went first");
    assert.deepEqual(snapshot.inFlight, []);
  });

  it("serves the page at / and keeps /stats, /stats?format=json, /ready and /help", async () => {
    const page = await fetch(`${proxy.admin}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(await page.text(), /<script src="\/inspector\.js" defer><\/script>/);
    assert.match(await (await fetch(`${proxy.admin}/inspector.js`)).text(), /EventSource\("\/inspector\/events"\)/);
    assert.match(await (await fetch(`${proxy.admin}/stats`)).text(), /proxy_wasm_as_requests_total \d+/);
    const json = (await (await fetch(`${proxy.admin}/stats?format=json`)).json()) as { proxy: { requests: number } };
    assert.ok(json.proxy.requests > 0);
    assert.equal(await (await fetch(`${proxy.admin}/ready`)).text(), "LIVE\n");
    assert.match(await (await fetch(`${proxy.admin}/help`)).text(), /GET \/stats/);
  });
});
