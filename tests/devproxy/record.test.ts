// `run --record FILE` then `replay FILE PLUGIN.wasm...`: a session recorded through the real dev
// proxy, replayed on the Node host against the same builds (no changes), against changed ones
// (the diff names what changed), from broken files (exit 2, one line), and loaded as fixtures.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { DevProxy } from "../../devproxy/proxy.js";
import { createPlugin, loadRecording, type RecordedExchange } from "../../host/index.js";
import { readRecording } from "../../host/recording.js";
import { filter } from "../host/support/wat.js";
import { repoRoot } from "../support/plugins.js";
import { runCli, startProxy } from "./support.js";

const example = (name: string) => join(repoRoot, "examples", name, "build", "plugin.wasm");
const dir = mkdtempSync(join(tmpdir(), "pwas-record-"));
/** A filter that lets everything through unchanged: a "new build" that lost its feature. */
const passThrough = join(dir, "pass-through.wasm");
writeFileSync(passThrough, filter());

const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));

function post(url: string, path: string, headers: Record<string, string>, chunks: string[]): Promise<number> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("run --record: add-header and the prime authorizer", () => {
  const recording = join(dir, "chain.jsonl");
  const big = "x".repeat(10_000);
  before(async () => {
    const proxy = await startProxy([
      example("add-header"),
      example("prime-authorizer"),
      "--config",
      '{"name": "x-team", "value": "edge"}',
      "--buffer-limit",
      "4096",
      "--record",
      recording,
    ]);
    assert.equal((await fetch(`${proxy.url}/hello`, { headers: { token: "13" } })).status, 200);
    assert.equal((await fetch(`${proxy.url}/denied`, { headers: { token: "15" } })).status, 403);
    assert.equal(await post(proxy.url, "/upload", { token: "7", authorization: "Bearer secret", cookie: "session=abc" }, ["first-", "second-", "third"]), 200);
    assert.equal(await post(proxy.url, "/big", { token: "7", "content-length": String(big.length) }, [big]), 200);
    await proxy.waitFor((e) => e.event === "request" && e.path === "/big");
    assert.equal(await proxy.stop(), 0);
  });

  it("writes a header line, then one line per exchange with what each filter did", () => {
    const [header, ...exchanges] = lines(recording);
    assert.equal(header.format, "proxy-wasm-as recording");
    assert.equal(header.version, 1);
    assert.deepEqual(header.filters.map((f: { name: string }) => f.name), ["add-header", "prime-authorizer"]);
    assert.deepEqual(header.filters[0].configuration, { text: '{"name": "x-team", "value": "edge"}' });
    assert.equal(exchanges.length, 4);
    const [hello, denied, upload] = exchanges;
    assert.deepEqual(hello.filters[0].responseHeaderChanges, [{ name: "x-team", before: [], after: ["edge"] }]);
    assert.equal(hello.upstream.response.headers[0][1], "200");
    assert.match(hello.upstream.response.body.text, /"path": "\/hello"/);
    assert.equal(denied.filters[1].localReply.status, 403);
    assert.deepEqual(denied.filters[1].localReply.body, { text: "Access forbidden." });
    assert.equal(denied.filters[1].phases[0].result, "StopAllIterationAndWatermark");
    assert.equal(denied.upstream, null);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.endedBy, { filter: "prime-authorizer", how: "local_response" });
    // The user's own traffic, as received: credentials included (run --help says so).
    const sent = Object.fromEntries(upload.request.headers);
    assert.equal(sent.authorization, "Bearer secret");
    assert.equal(sent.cookie, "session=abc");
    assert.equal(upload.request.body.text, "first-second-third");
  });

  it("keeps bodies up to the buffer limit and says how large they were", () => {
    const bigOne = lines(recording)[4];
    assert.equal(bigOne.request.body.text, big.slice(0, 4096));
    assert.equal(bigOne.request.body.size, 10_000);
    assert.equal(bigOne.upstream.request.body.text.length, 4096);
    assert.ok(bigOne.response.body.size > 10_000);
  });

  it("run --help says the recording holds credentials as received", async () => {
    const help = await runCli(["run", "--help"]);
    assert.match(help.stdout.replace(/\s+/g, " "), /--record <file>.*authorization and cookie values included/);
  });

  it("replay against the same builds: exit 0, no changes", async () => {
    const r = await runCli(["replay", recording, example("add-header"), example("prime-authorizer")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /#1 GET \/hello: no changes/);
    assert.match(r.stdout, /#2 GET \/denied: no changes/);
    assert.match(r.stdout, /#4 POST \/big: no changes\n {2}note: the recording kept the first 4096 bytes of each body/);
    assert.match(r.stdout, /4 exchanges replayed: no changes/);
  });

  it("replay against a build that lost the header: exit 1, the diff names the header", async () => {
    const r = await runCli(["replay", recording, passThrough, example("prime-authorizer")]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /#1 GET \/hello: 1 change\n {2}response header x-team: "edge" → \(none\)/);
    assert.match(r.stdout, /4 exchanges replayed: 4 changed, 0 unchanged/);
  });

  it("replay against an authorizer that lets everything through: exit 1, the status and local reply changed", async () => {
    const r = await runCli(["replay", recording, example("add-header"), passThrough]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /#1 GET \/hello: no changes/);
    assert.match(r.stdout, /#2 GET \/denied: \d+ changes/);
    assert.match(r.stdout, /status: 403 → 503/);
    assert.match(r.stdout, /local reply from prime-authorizer: 403 "Access forbidden\." → \(none\)/);
    assert.match(r.stdout, /upstream request: not sent → sent/);
    assert.match(r.stdout, /note: the request went upstream, which it did not in the recording/);
    const json = await runCli(["replay", "--json", recording, example("add-header"), passThrough]);
    const denied = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))[1];
    assert.equal(denied.path, "/denied");
    assert.ok(denied.changes.includes("status: 403 → 503"), denied.changes.join("; "));
  });

  it("replay --accept rewrites the recording with a new build's behaviour, which later replays hold it to", async () => {
    const golden = join(dir, "golden.jsonl");
    copyFileSync(recording, golden);
    const accept = await runCli(["replay", "--accept", golden, example("add-header"), passThrough]);
    assert.equal(accept.code, 0, accept.stdout + accept.stderr);
    assert.match(accept.stdout, /status: 403 → 503/);
    assert.match(accept.stdout, /now holds what these builds do/);
    const again = await runCli(["replay", golden, example("add-header"), passThrough]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /4 exchanges replayed: no changes/);
    // The old behaviour is now the change.
    const back = await runCli(["replay", golden, example("add-header"), example("prime-authorizer")]);
    assert.equal(back.code, 1, back.stdout + back.stderr);
    assert.match(back.stdout, /#2 GET \/denied: \d+ changes\n {2}status: 503 → 403/);
    // The inputs are kept as recorded, bodies cut at the buffer limit included.
    const [, , , , bigOne] = lines(golden);
    assert.equal(bigOne.request.body.size, 10_000);
    assert.equal(loadRecording(golden).exchanges.length, 4);
  });

  it("the testing API loads the recording as request specs the request runner accepts", () => {
    const { header, exchanges } = loadRecording(recording);
    assert.equal(header.filters.length, 2);
    assert.deepEqual(exchanges.map((x) => x.name), ["#1 GET /hello", "#2 GET /denied", "#3 POST /upload", "#4 POST /big"]);
    const plugin = createPlugin(example("prime-authorizer"));
    assert.ok(plugin.start().ok);
    const [hello, denied, upload] = exchanges;
    const ok = plugin.runHttpRequest(hello.spec);
    assert.equal(ok.stopped, null);
    assert.equal(ok.downstreamResponse?.headers.find(([k]) => k === ":status")?.[1], "200");
    // The upstream's recorded answer, unchanged by the authorizer (add-header's x-team came after it).
    assert.equal(ok.downstreamResponse?.body, hello.expected.body);
    const refused = plugin.runHttpRequest(denied.spec);
    assert.equal(refused.localResponse?.status, denied.expected.localReply?.status);
    assert.equal(refused.localResponse?.body, "Access forbidden.");
    assert.equal(plugin.runHttpRequest(upload.spec).upstreamRequest?.body, "first-second-third");
  });
});

describe("run --record: a callout's answer is recorded, so replay needs no auth server", () => {
  const recording = join(dir, "auth.jsonl");
  before(async () => {
    const auth = http.createServer((req, res) => {
      if (req.headers.authorization === "Bearer good") res.writeHead(200, { "x-auth-user": "alice" }).end();
      else res.writeHead(401).end();
    });
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
    const port = (auth.address() as AddressInfo).port;
    // A long callout timeout: on a loaded machine the default 500 ms can pass before the auth server answers.
    const proxy = await startProxy([example("http-auth"), "--config", '{"cluster": "auth", "timeoutMs": 10000}', "--cluster", `auth=http://127.0.0.1:${port}`, "--record", recording]);
    assert.equal((await fetch(`${proxy.url}/private`, { headers: { authorization: "Bearer good" } })).status, 200);
    await proxy.waitFor((e) => e.event === "request" && e.status === 200);
    // Written as each exchange ends, not when the proxy stops.
    assert.equal(lines(recording).length, 2);
    assert.equal((await fetch(`${proxy.url}/private`, { headers: { authorization: "Bearer bad" } })).status, 401);
    await proxy.waitFor((e) => e.event === "request" && e.status === 401);
    assert.equal(await proxy.stop(), 0);
    await new Promise((r) => auth.close(r));
  });

  it("records each callout with its answer", () => {
    const [header, good, bad] = lines(recording);
    assert.deepEqual(header.clusters, ["auth"]);
    const call = good.filters[0].callouts[0];
    assert.equal(call.cluster, "auth");
    assert.equal(call.answer.headers[0][1], "200");
    assert.ok(call.answer.headers.some(([k, v]: string[]) => k === "x-auth-user" && v === "alice"));
    assert.equal(bad.filters[0].callouts[0].answer.headers[0][1], "401");
    assert.match(good.upstream.response.body.text, /"x-auth-user": "alice"/);
  });

  it("replays against the recorded answers with the auth server gone: exit 0", async () => {
    const r = await runCli(["replay", recording, example("http-auth")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 exchanges replayed: no changes/);
  });

  it("a build that makes no callout forwards the refused request: exit 1", async () => {
    const r = await runCli(["replay", recording, passThrough]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /#2 GET \/private: \d+ changes\n {2}status: 401 → 503/);
    assert.match(r.stdout, /upstream request header x-auth-user: "alice" → \(none\)/);
  });
});

describe("run --record: a client that goes away in the middle of its body", () => {
  const recording = join(dir, "gone.jsonl");
  before(async () => {
    const proxy = await startProxy([example("add-header"), "--record", recording]);
    const { port } = new URL(proxy.url);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: "127.0.0.1", port, method: "PUT", path: "/half", headers: { "content-length": "100" } });
      req.on("error", () => resolve());
      req.write("0123456789", () => setTimeout(() => (req.destroy(), resolve()), 200));
    });
    await proxy.waitFor((e) => e.event === "request" && e.path === "/half");
    assert.equal(await proxy.stop(), 0);
  });

  it("is recorded as incomplete, and replayed without an end", async () => {
    const [, gone] = lines(recording);
    assert.equal(gone.request.incomplete, true);
    assert.equal(gone.request.body.text, "0123456789");
    assert.equal(gone.response, null);
    const r = await runCli(["replay", recording, example("add-header")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /#1 PUT \/half: no changes/);
  });
});

describe("replay: a bad recording is refused in one line naming the line, exit 2", () => {
  const good = join(dir, "good.jsonl");
  const header = { format: "proxy-wasm-as recording", version: 1, startedAt: "2026-01-01T00:00:00.000Z", bufferLimitBytes: 1024, filters: [{ name: "p", path: "p.wasm", sha256: "0", configuration: null, rootId: null, vmId: null }], clusters: [] };
  const exchange = {
    exchange: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1,
    connection: { source: "127.0.0.1:1", destination: "127.0.0.1:2" },
    request: { headers: [[":method", "GET"], [":path", "/"]], body: { text: "" }, trailers: null },
    filters: [{ name: "p", phases: [], requestHeaderChanges: [], responseHeaderChanges: [], localReply: null, stopped: null, callouts: [], logs: [] }],
    upstream: {
      request: { headers: [[":method", "GET"], [":path", "/"]], body: { text: "" }, trailers: null },
      response: { headers: [[":status", "200"]], body: { base64: Buffer.from("ok").toString("base64") }, trailers: null },
    },
    response: { headers: [[":status", "200"]], body: { text: "ok" }, trailers: null },
    status: 200,
    endedBy: null,
  };
  writeFileSync(good, `${JSON.stringify(header)}\n${JSON.stringify(exchange)}\n`);

  const cases: [string, string, RegExp][] = [
    ["not JSON", `${JSON.stringify(header)}\n{"exchange": 1,\n`, /bad\.jsonl line 2: not JSON/],
    ["cut off", `${JSON.stringify(header)}\n${JSON.stringify(exchange).slice(0, 80)}`, /bad\.jsonl line 2: cut off/],
    ["not a recording", `{"hello": "world"}\n`, /bad\.jsonl line 1: not a proxy-wasm-as recording/],
    ["another version", `${JSON.stringify({ ...header, version: 99 })}\n`, /line 1: recording version 99 is not supported/],
    ["bad headers", `${JSON.stringify(header)}\n${JSON.stringify({ ...exchange, request: { ...exchange.request, headers: [[":method", 1]] } })}\n`, /line 2: request\.headers\[0\] must be a \[name, value\] pair of strings/],
    ["bad base64", `${JSON.stringify(header)}\n${JSON.stringify({ ...exchange, request: { ...exchange.request, body: { base64: "@@@" } } })}\n`, /line 2: request\.body must have "text"/],
    ["deeply nested", `${JSON.stringify(header)}\n${"[".repeat(200_000)}${"]".repeat(200_000)}\n`, /line 2: (not JSON|the exchange must be an object)/],
    ["empty", "", /bad\.jsonl: empty/],
  ];
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const bad = join(dir, "bad.jsonl");
      writeFileSync(bad, text);
      const r = await runCli(["replay", bad, passThrough]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it("a usage error exits 2 too (1 means a difference), as does a plugin count that does not match", async () => {
    assert.equal((await runCli(["replay", good])).code, 2);
    const r = await runCli(["replay", good, passThrough, passThrough]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /records a chain of 1 filter\(s\) \(p\); give one \.wasm for each, in order \(2 given\)/);
  });

  it("a plugin that does not start: exit 2 with its reason", async () => {
    const notWasm = join(dir, "not.wasm");
    writeFileSync(notWasm, "hello");
    const r = await runCli(["replay", good, notWasm]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not\.wasm \(recorded as p\) did not start: .*not a wasm module/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });

  it("control characters from a recording reach the terminal escaped", async () => {
    const sneaky = join(dir, "sneaky.jsonl");
    const path: [string, string] = [":path", "/\u001b[2Jcleared"];
    const withPath = (m: { headers: string[][] }) => ({ ...m, headers: [m.headers[0], path] });
    const e = { ...exchange, request: withPath(exchange.request), upstream: { ...exchange.upstream, request: withPath(exchange.upstream.request) } };
    writeFileSync(sneaky, `${JSON.stringify(header)}\n${JSON.stringify(e)}\n`);
    const r = await runCli(["replay", sneaky, passThrough]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(!r.stdout.includes("\u001b"), r.stdout);
    assert.match(r.stdout, /#1 GET \/\\u001b\[2Jcleared: no changes/);
  });

  it("a well-formed file replays (the cases above differ from it in one thing)", async () => {
    const r = await runCli(["replay", good, passThrough]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("never holds a line longer than the limit", () => {
    const long = join(dir, "long.jsonl");
    writeFileSync(long, `${JSON.stringify(header)}\n${"x".repeat(5000)}\n`);
    assert.throws(() => readRecording(long, () => undefined, () => undefined, 1000), /long\.jsonl line 2: longer than 1000 bytes/);
  });
});

describe("the record sink: what a worker thread would post to the thread that writes the file", () => {
  it("gets each exchange as plain JSON (it survives JSON and structured clone unchanged)", async () => {
    const records: RecordedExchange[] = [];
    const proxy = new DevProxy({
      filters: [{ path: example("add-header") }],
      port: 0,
      adminPort: null,
      recordSink: (r) => records.push(r),
      out: new Writable({ write: (_c, _e, done) => done() }),
    });
    const { url } = await proxy.start();
    try {
      const res = await fetch(`${url}/json`, { method: "POST", body: new Uint8Array([0xff, 0x00, 0x80]) });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      await proxy.stop();
    }
    assert.equal(records.length, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(records[0])), records[0]);
    assert.deepEqual(structuredClone(records[0]), records[0]);
    // Bytes that are not UTF-8 are kept as base64.
    assert.deepEqual(records[0].request.body, { base64: "/wCA" });
  });
});
