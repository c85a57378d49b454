// What the dev proxy's upstream client writes and accepts on the wire, as Envoy's router and
// HTTP/1 codec do: lengths of empty bodies, Expect: 100-continue, trailers, an upstream that
// hangs up before answering, and backpressure both ways. Real sockets on 127.0.0.1; every wait
// bounded.

import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../support/plugins.js";
import { rawRequest } from "./hostile-support.js";
import { startProxy, type RunningProxy } from "./support.js";

const MB = 1024 * 1024;
/** Far more than the sockets and the proxy's watermarks hold between them (a few MB). */
const BIG = 64 * MB;
const STALL_MS = 700;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  trailers: string[];
}

describe("dev proxy: the upstream client on the wire", () => {
  const seen: Seen[] = [];
  /** What /download wrote so far, and what /upload had read when it started reading. */
  let sent = 0;
  let slowUploadRead = -1;
  const upstream = http.createServer((req, res) => {
    if (req.url === "/hang-up") return void req.socket.destroy();
    if (req.url === "/download") return download(res);
    if (req.url === "/upload") return upload(req, res);
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, trailers: req.rawTrailers });
      if (req.url === "/trailers") {
        res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum" });
        res.write("part");
        res.addTrailers({ "x-checksum": "abc" });
        return void res.end();
      }
      res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
      res.end("ok");
    });
  });
  const download = (res: http.ServerResponse) => {
    sent = 0;
    res.writeHead(200, { "content-length": BIG });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (sent < BIG) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  };
  // Reads nothing for a while, then the whole body.
  const upload = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.pause();
    setTimeout(() => {
      let read = 0;
      slowUploadRead = 0;
      req.on("data", (d: Buffer) => (read += d.length));
      req.on("end", () => {
        slowUploadRead = read;
        res.end("ok");
      });
      req.resume();
    }, STALL_MS);
  };
  let proxy: RunningProxy;
  const last = () => seen.at(-1)!;
  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = await startProxy([join(repoRoot, "examples", "add-header", "build", "plugin.wasm"), "--upstream", `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`]);
  });
  after(async () => {
    assert.equal(await proxy.stop(), 0);
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it("an empty POST goes upstream with content-length: 0, an empty GET without one", async () => {
    assert.equal((await rawRequest(proxy.url, "POST /empty-post HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")).status, 200);
    assert.equal(last().url, "/empty-post");
    assert.equal(last().headers["content-length"], "0");
    assert.equal((await rawRequest(proxy.url, "GET /empty-get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status, 200);
    assert.equal(last().url, "/empty-get");
    assert.equal(last().headers["content-length"], undefined);
    assert.equal(last().headers["transfer-encoding"], undefined);
  });

  it("a chunked request body goes upstream whole, and a known one with its length", async () => {
    const chunked = "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    assert.equal((await rawRequest(proxy.url, chunked)).status, 200);
    assert.equal(last().body, "hello world");
    assert.equal((await rawRequest(proxy.url, "PUT /sized HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")).status, 200);
    assert.deepEqual([last().method, last().body, last().headers["content-length"]], ["PUT", "abc", "3"]);
  });

  it("Expect: 100-continue is answered by the proxy and never reaches the upstream (Envoy removes it before the filters)", async () => {
    const res = await rawRequest(proxy.url, "POST /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assert.match(res.head, /^HTTP\/1\.1 100 Continue/);
    assert.match(res.body, /^HTTP\/1\.1 200 /);
    assert.equal(last().url, "/expect");
    assert.equal(last().body, "hi");
    assert.equal(last().headers.expect, undefined);
  });

  it("request trailers do not go to the HTTP/1 upstream, whose body still ends whole (Envoy's codec drops them unless enable_trailers)", async () => {
    const res = await rawRequest(
      proxy.url,
      "POST /request-trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n",
    );
    assert.equal(res.status, 200);
    assert.equal(last().url, "/request-trailers");
    assert.equal(last().body, "hello");
    assert.deepEqual(last().trailers, []);
  });

  it("the upstream's response trailers reach the client after the chunked body", async () => {
    const res = await rawRequest(proxy.url, "GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(res.status, 200);
    assert.match(res.head, /transfer-encoding: chunked/i);
    assert.match(res.body, /^4\r\npart\r\n0\r\nx-checksum: abc\r\n\r\n$/);
  });

  it("an upstream that hangs up before answering: 503 'reset reason: connection termination'", async () => {
    const res = await rawRequest(proxy.url, "GET /hang-up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(res.status, 503);
    assert.equal(res.body, "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    assert.equal((await rawRequest(proxy.url, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status, 200, "still serving");
  });

  it("a client that reads nothing holds the upstream back: its response stops flowing, then arrives whole", async () => {
    const { port } = new URL(proxy.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    socket.pause();
    socket.write("GET /download HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await new Promise((r) => setTimeout(r, STALL_MS));
    const sentWhileStalled = sent;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stuck at ${received} bytes`)), 30_000);
      socket.on("data", (d: Buffer) => (received += d.length));
      socket.on("close", () => (clearTimeout(timer), resolve()));
      socket.resume();
    });
    assert.ok(sentWhileStalled < BIG / 4, `the upstream wrote ${(sentWhileStalled / MB).toFixed(1)} MB while the client read nothing`);
    assert.ok(received > BIG, `the client got ${received} bytes`);
  });

  it("an upstream that reads nothing holds the client back: its upload stops flowing, then arrives whole", async () => {
    const { port } = new URL(proxy.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let written = 0;
    let response = "";
    socket.on("data", (d: Buffer) => (response += d.toString("latin1")));
    socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${BIG}\r\nConnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x75);
    // Write as fast as the proxy takes it, until the upstream starts reading.
    while (slowUploadRead < 0 && written < BIG) {
      written += chunk.length;
      if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
    }
    const writtenWhileStalled = written;
    while (written < BIG) {
      written += chunk.length;
      if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response: ${response}`)), 30_000);
      socket.on("close", () => (clearTimeout(timer), resolve()));
    });
    assert.ok(writtenWhileStalled < BIG / 4, `the client wrote ${(writtenWhileStalled / MB).toFixed(1)} MB while the upstream read nothing`);
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.equal(slowUploadRead, BIG);
  });
});
