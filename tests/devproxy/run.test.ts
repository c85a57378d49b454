// `proxy-wasm-as run` end to end: real HTTP from node's fetch through the dev proxy.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { filter } from "../host/support/wat.js";
import { runCli, startProxy, type RunningProxy } from "./support.js";

const example = (name: string) => join(repoRoot, "examples", name, "build", "plugin.wasm");
const dir = mkdtempSync(join(tmpdir(), "pwas-devproxy-"));
const requestEvents = (p: RunningProxy) => p.events.filter((e) => e.event === "request");
type Phase = { phase: string; endOfStream?: boolean; result?: string };
type RequestEvent = { path: string; status: number; filters: { name: string; phases: Phase[] }[]; logs: { filter: string; level: string; message: string }[] };

describe("run: add-header and the prime authorizer as a chain of two", () => {
  let proxy: RunningProxy;
  before(async () => {
    proxy = await startProxy([example("add-header"), example("prime-authorizer"), "--config", '{"name": "x-team", "value": "edge"}']);
  });
  after(async () => assert.equal(await proxy.stop(), 0));

  it("listens on loopback and names the filters in order", () => {
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const listening = proxy.events.find((e) => e.event === "listening") as { filters: { name: string }[] };
    assert.deepEqual(listening.filters.map((f) => f.name), ["add-header", "prime-authorizer"]);
  });

  it("passes a prime token to the echo upstream and adds the configured header", async () => {
    const res = await fetch(`${proxy.url}/hello?x=1`, { headers: { token: "13" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-team"), "edge");
    const seen = await res.json();
    assert.equal(seen.method, "GET");
    assert.equal(seen.path, "/hello?x=1");
    assert.equal(seen.headers.token, "13");
    assert.ok(seen.headers["x-request-id"]);
  });

  it("answers 403 locally for a token that is not prime; the header filter still sees the reply", async () => {
    const res = await fetch(`${proxy.url}/`, { headers: { token: "15" } });
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "Access forbidden.");
    assert.equal(res.headers.get("x-team"), "edge");
    const event = (await proxy.waitFor((e) => e.event === "request" && e.status === 403)) as { endedBy: unknown };
    assert.deepEqual(event.endedBy, { filter: "prime-authorizer", how: "local_response" });
  });

  it("streams a request body that arrives in several chunks", async () => {
    const { port } = new URL(proxy.url);
    const chunks = ["first-", "second-", "third"];
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/upload", headers: { token: "7" } }, (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      let i = 0;
      const next = () => {
        if (i === chunks.length) {
          req.end();
          return;
        }
        req.write(chunks[i++]);
        setTimeout(next, 60);
      };
      req.flushHeaders();
      setTimeout(next, 60);
    });
    assert.equal(JSON.parse(body).body, "first-second-third");
    const event = (await proxy.waitFor((e) => e.event === "request" && e.path === "/upload")) as unknown as RequestEvent;
    for (const f of event.filters) {
      const bodyPhases = f.phases.filter((p) => p.phase === "request_body");
      assert.ok(bodyPhases.length >= 3, `${f.name} saw ${bodyPhases.length} body callbacks`);
      assert.equal(bodyPhases.at(-1)?.endOfStream, true);
      assert.ok(bodyPhases.slice(0, -1).every((p) => !p.endOfStream));
    }
  });

  it("serves the filters' and the proxy's metrics on the admin port", async () => {
    const text = await (await fetch(`${proxy.admin}/stats`)).text();
    assert.match(text, /# TYPE proxy_wasm_as_requests_total counter\nproxy_wasm_as_requests_total \d+/);
    assert.match(text, /proxy_wasm_as_responses_total\{code="403"\} 1/);
  });
});

describe("run: http-auth against a real local auth server", () => {
  let proxy: RunningProxy;
  let auth: http.Server;
  const checks: string[] = [];
  before(async () => {
    auth = http.createServer((req, res) => {
      checks.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
      // Answer a little later, so the request really waits on the callout.
      setTimeout(() => {
        if (req.headers.authorization === "Bearer good") res.writeHead(200, { "x-auth-user": "alice" }).end();
        else res.writeHead(401).end();
      }, 50);
    });
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
    const authPort = (auth.address() as AddressInfo).port;
    proxy = await startProxy([example("http-auth"), "--config", '{"cluster": "auth"}', "--cluster", `auth=http://127.0.0.1:${authPort}`]);
  });
  after(async () => {
    assert.equal(await proxy.stop(), 0);
    await new Promise((r) => auth.close(r));
  });

  it("holds the request until the auth server answers 200, then forwards with the user", async () => {
    const res = await fetch(`${proxy.url}/private`, { headers: { authorization: "Bearer good", "x-auth-user": "mallory" } });
    assert.equal(res.status, 200);
    const seen = await res.json();
    assert.equal(seen.headers["x-auth-user"], "alice");
    assert.ok(checks.includes("GET /check Bearer good"), checks.join("; "));
  });

  it("answers 401 when the auth server refuses", async () => {
    const res = await fetch(`${proxy.url}/private`, { headers: { authorization: "Bearer bad" } });
    assert.equal(res.status, 401);
    assert.equal(await res.text(), "Unauthorized.");
  });

  it("serves concurrent requests, each waiting on its own callout", async () => {
    const results = await Promise.all(
      ["good", "bad", "good", "bad"].map((t) => fetch(`${proxy.url}/c`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status)),
    );
    assert.deepEqual(results, [200, 401, 200, 401]);
  });
});

describe("run: upstream, failures and reload", () => {
  it("forwards to --upstream with the body streamed and the response streamed back", async () => {
    const upstream = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        res.writeHead(201, { "content-type": "text/plain", "x-up": "1" });
        res.write("got:");
        setTimeout(() => res.end(body), 30);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const proxy = await startProxy([example("add-header"), "--upstream", `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/base`]);
    try {
      const res = await fetch(`${proxy.url}/x`, { method: "POST", body: "payload" });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("hello"), "world");
      assert.equal(res.headers.get("x-up"), "1");
      assert.equal(await res.text(), "got:payload");
    } finally {
      assert.equal(await proxy.stop(), 0);
      await new Promise((r) => upstream.close(r));
    }
  });

  it("answers 503 through the filters when the upstream is down", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const proxy = await startProxy([example("add-header"), "--upstream", `http://127.0.0.1:${port}`]);
    try {
      const res = await fetch(`${proxy.url}/`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("hello"), "world");
      assert.match(await res.text(), /upstream connect error/);
    } finally {
      await proxy.stop();
    }
  });

  it("refuses a plugin that does not load: exit 1 with the reason", async () => {
    const bad = join(dir, "bad.wasm");
    writeFileSync(bad, "not wasm at all");
    const run = await runCli(["run", bad, "--port", "0", "--admin-port", "0"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^proxy-wasm-as run: bad \(.*bad\.wasm\) did not start: .+/);
    assert.equal(run.stderr.trim().split("\n").length, 1);
  });

  it("refuses a configuration the plugin rejects", async () => {
    const run = await runCli(["run", example("add-header"), "--config", '{"name": ', "--port", "0", "--admin-port", "0"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /did not start: .*proxy_on_configure returned false/);
  });

  it("fails closed with 503 for a filter whose VM traps, and keeps serving", async () => {
    const trap = join(dir, "trap.wasm");
    writeFileSync(trap, filter({ body: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable)` }));
    const proxy = await startProxy([example("add-header"), trap]);
    try {
      const res = await fetch(`${proxy.url}/`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("hello"), "world", "the filter before it still sees the reply");
      const event = (await proxy.waitFor((e) => e.event === "request")) as unknown as RequestEvent;
      assert.ok(event.logs.some((l) => l.level === "error" && /proxy_on_request_headers failed/.test(l.message)), JSON.stringify(event.logs));
      assert.equal((await fetch(`${proxy.url}/again`)).status, 503);
    } finally {
      await proxy.stop();
    }
  });

  it("--watch reloads a changed filter and refuses a broken one while the old keeps serving", async () => {
    const path = join(dir, "watched.wasm");
    copyFileSync(example("add-header"), path);
    const proxy = await startProxy([path, "--watch"]);
    try {
      let res = await fetch(`${proxy.url}/`, { headers: { token: "15" } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("hello"), "world");

      writeFileSync(path, readFileSync(example("prime-authorizer")));
      const reloaded = await proxy.waitFor((e) => e.event === "reload");
      assert.deepEqual(reloaded, { event: "reload", filter: "watched", ok: true, version: 2 });
      res = await fetch(`${proxy.url}/`, { headers: { token: "15" } });
      assert.equal(res.status, 403);

      writeFileSync(path, "garbage");
      const refused = await proxy.waitFor((e) => e.event === "reload" && e.ok === false);
      assert.equal(refused.version, 2);
      assert.match(String(refused.error), /Failed to parse|corrupted|magic/i);
      res = await fetch(`${proxy.url}/`, { headers: { token: "13" } });
      assert.equal(res.status, 200, "the previous version keeps serving");
      assert.equal((await fetch(`${proxy.url}/`, { headers: { token: "15" } })).status, 403);
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});

describe("run: ticks on real timers, callouts from the root, shared data between filters", () => {
  it("token-cache: the fetcher refreshes the token on its tick, the other root id adds it to requests", async () => {
    let issued = 0;
    const tokens = http.createServer((_req, res) => res.end(`tok${++issued}`));
    await new Promise<void>((r) => tokens.listen(0, "127.0.0.1", r));
    const wasm = example("token-cache");
    const proxy = await startProxy([
      wasm, wasm, "--root-id", "token-fetcher", "--root-id", "token-cache",
      "--config", '{"cluster": "tokens", "path": "/token", "refreshMs": 100}',
      "--cluster", `tokens=http://127.0.0.1:${(tokens.address() as AddressInfo).port}`,
    ]);
    try {
      const listening = proxy.events.find((e) => e.event === "listening") as { filters: { name: string }[] };
      assert.deepEqual(listening.filters.map((f) => f.name), ["token-cache/token-fetcher", "token-cache/token-cache"]);
      await proxy.waitFor((e) => e.event === "log" && /token refreshed/.test(String(e.message)));
      const first = (await (await fetch(`${proxy.url}/`)).json()).headers.authorization;
      assert.match(first, /^Bearer tok\d+$/);
      // More ticks, more tokens: the timer keeps running.
      for (let i = 0; i < 100 && issued < Number(first.slice("Bearer tok".length)) + 2; i++) await new Promise((r) => setTimeout(r, 50));
      const later = (await (await fetch(`${proxy.url}/`)).json()).headers.authorization;
      assert.notEqual(later, first);
    } finally {
      assert.equal(await proxy.stop(), 0);
      await new Promise((r) => tokens.close(r));
    }
  });
});

void requestEvents;
