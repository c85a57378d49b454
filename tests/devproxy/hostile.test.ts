// The dev proxy against hostile input: what a client, an upstream or a filter can send must get
// an Envoy-like answer with the reason logged, and the proxy keeps serving. Real sockets on
// 127.0.0.1; every wait bounded.

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exposureWarning } from "../../devproxy/proxy.js";
import { repoRoot } from "../support/plugins.js";
import { CASE, hostileFilter, rawRequest, send, startUpstream, type TestUpstream } from "./hostile-support.js";
import { runCli, startProxy, type RunningProxy } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "pwas-devproxy-hostile-"));
const hostile = join(dir, "hostile.wasm");
writeFileSync(hostile, hostileFilter());
const example = (name: string) => join(repoRoot, "examples", name, "build", "plugin.wasm");
type RequestEvent = { path: string; status: number | null; error?: string; endedBy?: { filter: string; how: string; details?: string } | null };

describe("dev proxy: hostile filters, upstreams and clients", () => {
  let upstream: TestUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await startUpstream();
    proxy = await startProxy([hostile, "--upstream", upstream.url, "--route-timeout", "800"]);
  });
  after(async () => {
    assert.equal(await proxy.stop(), 0, "the proxy survived everything and stopped cleanly");
    await upstream.close();
  });
  const lastRequest = (path: string) => proxy.waitFor((e) => e.event === "request" && e.path === path) as Promise<unknown> as Promise<RequestEvent>;
  const stillServing = async () => assert.equal((await send(`${proxy.url}/fine`)).status, 200, "still serving");

  for (const [name, value, status] of [
    ["a local reply with status 99999", CASE.replyStatus99999, /status 99999/],
    ["a local reply with status -5", CASE.replyStatusMinus5, /status (-5|4294967291)/],
    ["a :status of 'abc'", CASE.statusAbc, /missing required header: :status/],
    ["a :status of '200 OK'", CASE.status200Ok, /missing required header: :status/],
    ["a response header value with CR LF", CASE.responseValueCrLf, /invalid header value for: x-bad/],
    ["a response header value with NUL", CASE.responseValueNul, /invalid header value for: x-bad/],
    ["a response header name with a space", CASE.responseNameSpace, /invalid header name: x bad/],
  ] as const) {
    it(`a filter that sends ${name}: 502 with the reason logged, and the proxy keeps serving`, async () => {
      const path = `/case-${value}`;
      const res = await send(`${proxy.url}${path}`, { headers: { "x-case": value } });
      assert.equal(res.status, 502);
      assert.equal(res.headers["x-bad"], undefined);
      const event = await lastRequest(path);
      assert.equal(event.status, 502);
      assert.match(String(event.error), status);
      await stillServing();
    });
  }

  it("a filter that adds a request header value with LF: 503 before the upstream, as Envoy's router", async () => {
    const before = upstream.seen.length;
    const res = await send(`${proxy.url}/bad-request-header`, { headers: { "x-case": CASE.requestValueLf } });
    assert.equal(res.status, 503);
    assert.match(res.body.toString(), /invalid header value for: x-bad/);
    assert.equal(upstream.seen.length, before, "nothing reached the upstream");
    await stillServing();
  });

  it("an upstream status outside 100-999 (099): 502 'protocol error', the reason logged", async () => {
    const res = await send(`${proxy.url}/status099`);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /upstream connect error or disconnect\/reset before headers\. reset reason: protocol error/);
    assert.match(String((await lastRequest("/status099")).error), /invalid status 99/);
    await stillServing();
  });

  it("an upstream with more than 100 response headers: 502 'protocol error' (none dropped silently)", async () => {
    const res = await send(`${proxy.url}/many-headers`);
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /reset reason: protocol error/);
    assert.match(String((await lastRequest("/many-headers")).error), /more than 100 response headers/);
  });

  it("an upstream 204 with content-length: 5 reaches the client as a clean 204", async () => {
    const res = await rawRequest(proxy.url, "GET /no-content-5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(res.status, 204);
    assert.doesNotMatch(res.head, /content-length/i);
    assert.equal(res.body, "");
    assert.equal((await lastRequest("/no-content-5")).error, undefined);
  });

  it("an upstream that never answers: 504 'upstream request timeout' after the route timeout", async () => {
    const started = Date.now();
    const res = await send(`${proxy.url}/hang`, { ms: 8000 });
    assert.equal(res.status, 504);
    assert.equal(res.body.toString(), "upstream request timeout");
    assert.ok(Date.now() - started >= 700, "not before the route timeout");
    assert.match(String((await lastRequest("/hang")).error), /route timeout \(800 ms\)/);
  });

  it("forwards :path byte for byte, as the filters saw it", async () => {
    for (const path of ["/public/%2e%2e/admin", "/a/../b", "//double//slash/./x?q=%2F..%2f#frag", "/%7Euser/%41"]) {
      const res = await rawRequest(proxy.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200, path);
      assert.equal(upstream.seen.at(-1)?.url, path);
    }
  });

  it("an absolute-form target gives :authority and :path, as Envoy's HTTP/1 codec splits it", async () => {
    const res = await rawRequest(proxy.url, "GET http://other.example/abs/%2e%2e/x?y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.url, "/abs/%2e%2e/x?y");
    assert.equal(seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === "x-forwarded-host") + 1], "other.example");
  });

  it("CONNECT: 403, no tunnel", async () => {
    const res = await rawRequest(proxy.url, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert.equal(res.status, 403);
  });

  it("removes hop-by-hop headers, those named in Connection included, before the filters and the upstream", async () => {
    const res = await rawRequest(
      proxy.url,
      "GET /hop HTTP/1.1\r\nHost: x\r\nConnection: close, x-secret\r\nx-secret: 1\r\nproxy-authorization: Basic YTpi\r\n" +
        "keep-alive: timeout=5\r\nte: gzip\r\nproxy-connection: keep-alive\r\nx-kept: yes\r\n\r\n",
    );
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.url, "/hop");
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const gone of ["x-secret", "proxy-authorization", "keep-alive", "te", "proxy-connection"]) assert.ok(!names.includes(gone), `${gone} reached the upstream`);
    assert.ok(names.includes("x-kept"));
  });

  it("101 request headers: 431; 100 pass (Envoy's max_headers_count)", async () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join("");
    // Host counts as one of them.
    const over = await rawRequest(proxy.url, `GET /many HTTP/1.1\r\nHost: x\r\n${headers(100)}Connection: close\r\n\r\n`);
    assert.equal(over.status, 431);
    const within = await rawRequest(proxy.url, `GET /many HTTP/1.1\r\nHost: x\r\n${headers(98)}Connection: close\r\n\r\n`);
    assert.equal(within.status, 200);
  });

  it("a second token past thousands of headers never reaches the upstream: 431", async () => {
    const before = upstream.seen.length;
    const filler = Array.from({ length: 2100 }, (_, i) => `x-f${i}: 1\r\n`).join("");
    const res = await rawRequest(proxy.url, `GET /smuggle HTTP/1.1\r\nHost: x\r\ntoken: 13\r\n${filler}token: 15\r\nConnection: close\r\n\r\n`);
    assert.equal(res.status, 431);
    assert.equal(upstream.seen.length, before);
  });

  it("more than 60 KiB of request headers: 431 (Envoy's max_request_headers_kb)", async () => {
    const res = await rawRequest(proxy.url, `GET /big HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(61 * 1024)}\r\nConnection: close\r\n\r\n`);
    assert.equal(res.status, 431);
    const fits = await rawRequest(proxy.url, `GET /big HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(40 * 1024)}\r\nConnection: close\r\n\r\n`);
    assert.equal(fits.status, 200);
  });

  it("malformed requests: 400, not a reset", async () => {
    for (const bytes of [
      "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "GET / HTTP/1.1\r\nHost: x\r\nx-nul: a\0b\r\n\r\n",
      "NOT HTTP AT ALL\r\n\r\n",
    ]) {
      const res = await rawRequest(proxy.url, bytes);
      assert.equal(res.status, 400, JSON.stringify(bytes));
    }
    await stillServing();
  });

  it("a filter buffering a request body over the 1 MiB buffer limit: 413 with the reason logged", async () => {
    const res = await send(`${proxy.url}/upload`, { method: "POST", headers: { "x-case": CASE.bufferRequest }, body: Buffer.alloc(2 * 1024 * 1024, 1) }).catch(
      (e: Error) => ({ status: -1, body: Buffer.from(e.message) }),
    );
    assert.equal(res.status, 413, res.body.toString());
    assert.equal(res.body.toString(), "Payload Too Large");
    const event = await lastRequest("/upload");
    assert.match(String(event.error), /request_payload_too_large/);
    assert.match(String(event.error), /1048576/);
    await stillServing();
  });

  it("a filter buffering a response body over the 1 MiB buffer limit: 500 with the reason logged", async () => {
    const path = `/bytes/${2 * 1024 * 1024}`;
    const res = await send(`${proxy.url}${path}`, { headers: { "x-case": CASE.bufferResponse } });
    assert.equal(res.status, 500);
    assert.equal(res.body.toString(), "Internal Server Error");
    assert.match(String((await lastRequest(path)).error), /response_payload_too_large/);
    await stillServing();
  });

  it("a client that disconnects mid-upload and mid-download leaves nothing behind", async () => {
    const { port } = new URL(proxy.url);
    for (const request of [
      `POST /fine HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${"x".repeat(1000)}`,
      `GET /bytes/${8 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(request));
        socket.once("data", () => socket.destroy());
        socket.on("close", () => resolve());
        setTimeout(() => socket.destroy(), 300);
      });
    }
    await stillServing();
  });
});

describe("dev proxy: limits are configurable", () => {
  it("--max-headers-count and --max-request-headers-kb raise Envoy's defaults", async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy([example("add-header"), "--upstream", upstream.url, "--max-headers-count", "300", "--max-request-headers-kb", "96"]);
    try {
      const headers = Array.from({ length: 250 }, (_, i) => `x-h${i}: v\r\n`).join("");
      assert.equal((await rawRequest(proxy.url, `GET / HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`)).status, 200);
      const big = await rawRequest(proxy.url, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(80 * 1024)}\r\nConnection: close\r\n\r\n`);
      assert.equal(big.status, 200);
    } finally {
      assert.equal(await proxy.stop(), 0);
      await upstream.close();
    }
  });

  it("refuses limits that are not numbers", async () => {
    for (const flag of ["--max-headers-count", "--max-request-headers-kb", "--route-timeout", "--buffer-limit"]) {
      const run = await runCli(["run", example("add-header"), flag, "lots", "--port", "0", "--admin-port", "0"]);
      assert.equal(run.code, 1, flag);
      assert.match(run.stderr, new RegExp(`bad ${flag} 'lots'`));
    }
  });
});

describe("dev proxy: ports and exposure", () => {
  it("an admin port already in use: exit 1 with the reason, no proxy left serving", async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const run = await runCli(["run", example("add-header"), "--port", "0", "--admin-port", String(port)], 15_000);
      assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`admin port ${port} on 127\\.0\\.0\\.1 is in use`));
      assert.doesNotMatch(run.stdout, /listening on/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it("binding beyond loopback warns that the admin port (stats) is exposed too", () => {
    assert.equal(exposureWarning("127.0.0.1", "http://127.0.0.1:9901"), null);
    assert.equal(exposureWarning("::1", "http://[::1]:9901"), null);
    assert.equal(exposureWarning("localhost", "http://localhost:9901"), null);
    const warning = exposureWarning("0.0.0.0", "http://0.0.0.0:9901");
    assert.match(String(warning), /bound to 0\.0\.0\.0/);
    assert.match(String(warning), /admin port.*\/stats.*exposed too/);
    assert.doesNotMatch(String(exposureWarning("10.1.2.3", "")), /admin/);
  });
});
