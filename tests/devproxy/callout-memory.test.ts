// A dev proxy runs for days: with a filter that calls out on every request (examples/http-auth),
// what the proxy and its host keep must not grow with the number of requests. It did: the VM
// kept every callout with its headers and body, and the plugin every root-level log line.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DevProxy } from "../../devproxy/proxy.js";
import { largestCollection } from "../support/collections.js";
import { repoRoot } from "../support/plugins.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const REQUESTS = 6000;
const AT_ONCE = 20;
/**
 * Requests before the first measure: code, connection pools and caches settle first. With undici's
 * client the heap takes about 3,000 requests to settle (+0.6 to 1.3 MB from 1,000 to 3,000, then flat:
 * +1.1 MB at 15,000 and at 45,000), so the measure starts there.
 */
const WARM_UP = 3000;

/** What the auth service answers to the nth check: 200, 403, 500 (the filter logs a warning), or a reset (a failed callout). */
function answerCheck(n: number, res: http.ServerResponse): void {
  switch (n % 5) {
    case 0:
    case 1:
      res.writeHead(200, { "x-auth-user": `user${n}` }).end();
      return;
    case 2:
      res.writeHead(403).end("no");
      return;
    case 3:
      res.writeHead(500).end("broken");
      return;
    default:
      res.socket?.destroy();
  }
}

describe("dev proxy: memory under callouts", () => {
  let checks = 0;
  const auth = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => answerCheck(checks++, res));
  });
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("hello from upstream"));
  });
  const client = new http.Agent({ keepAlive: true, maxSockets: AT_ONCE });
  let proxy: DevProxy;
  let url: string;
  let printed = 0;
  before(async () => {
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = new DevProxy({
      filters: [{ path: join(repoRoot, "examples", "http-auth", "build", "plugin.wasm"), configuration: '{"cluster": "auth", "timeoutMs": 5000}' }],
      port: 0,
      adminPort: null,
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      clusters: { auth: `http://127.0.0.1:${(auth.address() as AddressInfo).port}` },
      requestLogging: "off",
      json: true,
      out: new Writable({ write: (chunk, _enc, done) => ((printed += String(chunk).split("\n").length - 1), done()) }),
    });
    ({ url } = await proxy.start());
  });
  after(async () => {
    client.destroy();
    await proxy.stop();
    await new Promise((r) => auth.close(r));
    await new Promise((r) => upstream.close(r));
  });

  const request = (i: number) =>
    new Promise<number>((resolve, reject) =>
      http
        .get(`${url}/r${i}`, { agent: client, headers: { authorization: `Bearer t${i}` } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode!));
        })
        .on("error", reject),
    );

  async function send(from: number, to: number, statuses: Map<number, number>): Promise<void> {
    for (let i = from; i < to; i += AT_ONCE) {
      const batch = await Promise.all(Array.from({ length: Math.min(AT_ONCE, to - i) }, (_, k) => request(i + k)));
      for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
  }

  const heapAfterGc = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  it(`${REQUESTS} requests through http-auth leave the proxy's records and heap where ${WARM_UP} left them`, async (t) => {
    const statuses = new Map<number, number>();
    await send(0, WARM_UP, statuses);
    const warm = heapAfterGc();
    await send(WARM_UP, REQUESTS, statuses);
    const end = heapAfterGc();
    // Every answer the auth service gives was seen: 200 -> upstream, 403 -> 403, 500 and reset -> 503.
    assert.deepEqual([...statuses.entries()].sort(), [[200, (REQUESTS * 2) / 5], [403, REQUESTS / 5], [503, (REQUESTS * 2) / 5]]);
    assert.ok(printed >= (REQUESTS * 2) / 5, `the filter's warnings and the failed callouts were printed (${printed} lines)`);

    const largest = largestCollection(proxy, 10);
    assert.ok(largest.size < 200, `the dev proxy holds a collection of ${largest.size} entries at proxy${largest.path} after ${REQUESTS} requests`);
    const growth = end - warm;
    t.diagnostic(`heap after gc: ${(warm / 1e6).toFixed(1)} MB after ${WARM_UP} requests, ${(end / 1e6).toFixed(1)} MB after ${REQUESTS} (${growth >= 0 ? "+" : ""}${(growth / 1e3).toFixed(0)} kB)`);
    // Each request used to leave its callout (headers, body) and log lines behind: ~1 kB a request.
    assert.ok(growth < 1_000_000, `the heap grew by ${growth} bytes over ${REQUESTS - WARM_UP} requests`);
  });
});
