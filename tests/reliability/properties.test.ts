// Property-based tests through every example and the SDK's API, at the host level: random hostile
// header maps (non-UTF-8 bytes, empty names and values, 1,000 headers, 64 KiB values, duplicates,
// mixed case), random body chunkings and sizes, random plugin configurations. For each:
// never a trap, the result matches a small model of the filter, memory does not grow.
// Fixed seed (support.ts); `npm run test:properties -- --seed N` explores.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createPlugin, type Plugin, type RequestResult } from "../../host/index.js";
import { examplePlugin, testFilter } from "../support/plugins.js";
import {
  assertNoTrap,
  assertProperty,
  chunkedBody,
  envoyHeaderMap,
  firstValue,
  headerList,
  hexHeaders,
  hostileConfiguration,
  primeAuthorizerAllows,
  SEED,
  split,
  tokenName,
  valuesOf,
  withRequestDefaults,
  withResponseDefaults,
  type Headers,
} from "./support.js";

const dec = new TextDecoder();
const UPSTREAM_SECRET = "UPSTREAM-SECRET-7f3a";

/**
 * Replays `inputs` and returns the memory growth in pages once the heap has settled. The collector
 * runs every few dozen requests (or after 256 KB of allocations), so where it falls in a pass moves
 * the heap's peak, and a varied input set can still raise the high-water mark by a page before it
 * converges. A leak does not converge: it grows with every pass. So the replay settles over at least
 * 400 requests (16 passes or more), then at least 200 more (5 passes or more) must not grow the memory.
 * (The soak's million requests catch leaks too small to cross a page here.)
 */
function growthOnReplay<T>(plugin: Plugin, inputs: T[], run: (input: T) => void): number {
  const passes = (requests: number, atLeast: number) => Math.max(atLeast, Math.ceil(requests / Math.max(1, inputs.length)));
  for (let pass = 0; pass < passes(400, 16); pass++) for (const input of inputs) run(input);
  const before = plugin.memoryPages;
  for (let pass = 0; pass < passes(200, 5); pass++) for (const input of inputs) run(input);
  return plugin.memoryPages - before;
}

describe(`properties (seed ${SEED})`, () => {
  it("add-header: responses gain exactly the configured header, requests pass byte for byte, no trap, no growth", () => {
    const config = fc.record({ name: tokenName, value: fc.string({ unit: fc.constantFrom(..."abc XYZ019-_/\t;=é"), maxLength: 30 }) });
    type Input = { cfg: { name: string; value: string }; req: Headers; body: Uint8Array[]; resp: Headers; respBody: Uint8Array[] };
    const plugins = new Map<string, Plugin>();
    const seen: Input[] = [];
    const run = ({ cfg, req, body, resp, respBody }: Input): RequestResult => {
      const key = JSON.stringify(cfg);
      let plugin = plugins.get(key);
      if (!plugin) {
        plugin = createPlugin(examplePlugin("add-header"), { configuration: key });
        assert.equal(plugin.start().ok, true, key);
        plugins.set(key, plugin);
      }
      const result = plugin.runHttpRequest({ requestHeaders: req, requestBody: body, responseHeaders: resp, responseBody: respBody });
      assertNoTrap(plugin, result);
      return result;
    };
    assertProperty(
      fc.property(fc.record({ cfg: config, req: headerList, body: chunkedBody, resp: headerList, respBody: chunkedBody }), (input) => {
        seen.push(input);
        const result = run(input);
        assert.deepEqual(hexHeaders(result.upstreamRequest!.headerBytes), envoyHeaderMap(withRequestDefaults(input.req)));
        assert.deepEqual(
          hexHeaders(result.downstreamResponse!.headerBytes),
          envoyHeaderMap([...withResponseDefaults(input.resp), [input.cfg.name, input.cfg.value]], "responseHeaders"),
        );
        assert.equal(Buffer.compare(result.upstreamRequest!.bodyBytes, Buffer.concat(input.body)), 0);
      }),
      150,
    );
    const byConfig = new Map<string, Input[]>();
    for (const input of seen) byConfig.set(JSON.stringify(input.cfg), [...(byConfig.get(JSON.stringify(input.cfg)) ?? []), input]);
    for (const [key, inputs] of byConfig) assert.equal(growthOnReplay(plugins.get(key)!, inputs, run), 0, key);
  });

  it("prime-authorizer: allows exactly one decimal prime token (header name in any case), denies all else, never leaks upstream data", () => {
    const primes = ["2", "13", "7919", "18446744073709551557", "0000013", "4294967311"];
    const composites = ["1", "0", "15", "18446744073709551615", "18446744073709551616", "99999999999999999999999", "-13", "+13", " 13", "13 ", "1e3", "0x0d", "１３"];
    const tokenValue = fc.oneof(
      fc.constantFrom(...primes, ...composites),
      fc.bigInt({ min: 0n, max: 2n ** 64n + 10n }).map(String),
      fc.nat(3000).map((n) => "7".repeat(n + 1)),
      headerList.chain(() => fc.uint8Array({ maxLength: 24 })),
    );
    const tokenHeader = fc.tuple(fc.constantFrom("token", "TOKEN", "Token", "tOkEn"), tokenValue);
    const request = fc.tuple(headerList, fc.array(tokenHeader, { maxLength: 3 }), fc.nat()).map(([others, tokens, at]) => {
      const all: Headers = [...others];
      for (const t of tokens) all.splice(at % (all.length + 1), 0, t);
      return all;
    });
    const plugin = createPlugin(examplePlugin("prime-authorizer"));
    assert.equal(plugin.start().ok, true);
    const seen: Headers[] = [];
    const run = (req: Headers) => {
      const result = plugin.runHttpRequest({
        requestHeaders: req,
        responseHeaders: [["x-upstream", UPSTREAM_SECRET]],
        responseBody: [UPSTREAM_SECRET],
      });
      assertNoTrap(plugin, result);
      return result;
    };
    assertProperty(
      fc.property(request, (req) => {
        seen.push(req);
        const result = run(req);
        if (primeAuthorizerAllows(req)) {
          assert.equal(result.localResponse, null);
          assert.deepEqual(hexHeaders(result.upstreamRequest!.headerBytes), envoyHeaderMap(withRequestDefaults(req)));
        } else {
          assert.equal(result.localResponse?.status, 403);
          assert.equal(result.upstreamRequest, null);
          assert.equal(result.downstreamResponse?.body, "Access forbidden.");
          assert.ok(!JSON.stringify(result.downstreamResponse).includes(UPSTREAM_SECRET));
        }
      }),
      600,
    );
    assert.equal(growthOnReplay(plugin, seen, run), 0);
  });

  it("body-rewrite: a JSON object body in any chunking gets the field set, anything else passes unchanged", () => {
    const field = fc.constantFrom("status", "a", "é", "x".repeat(100), "");
    const value = fc.jsonValue({ maxDepth: 3 });
    const config = fc.record({ field: field.filter((f) => f.length > 0), value, maxBodyBytes: fc.constantFrom(undefined, 64, 100000) });
    const body = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((o) => JSON.stringify(o)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
      fc.constant('{"a":1'),
    );
    const contentType = fc.constantFrom("application/json", "Application/JSON; charset=utf-8", "application/problem+json", "text/plain", undefined);
    type Input = { cfg: { field: string; value: unknown; maxBodyBytes?: number }; body: string; cuts: number[]; contentType?: string };
    const plugins = new Map<string, Plugin>();
    const seen: Input[] = [];
    const run = (input: Input) => {
      const key = JSON.stringify(input.cfg);
      let plugin = plugins.get(key);
      if (!plugin) {
        plugin = createPlugin(examplePlugin("body-rewrite"), { configuration: key });
        assert.equal(plugin.start().ok, true, key);
        plugins.set(key, plugin);
      }
      const bytesIn = new TextEncoder().encode(input.body);
      const headers: Headers = [["content-length", String(bytesIn.length)]];
      if (input.contentType) headers.push(["content-type", input.contentType]);
      const result = plugin.runHttpRequest({ responseHeaders: headers, responseBody: split(bytesIn, input.cuts) });
      assertNoTrap(plugin, result);
      return result;
    };
    assertProperty(
      fc.property(fc.record({ cfg: config, body, cuts: fc.array(fc.nat(), { maxLength: 5 }), contentType }), (input) => {
        seen.push(input);
        const result = run(input);
        const out = result.downstreamResponse!;
        const size = new TextEncoder().encode(input.body).length;
        const isJson = input.contentType !== undefined && /^application\/(json|.*\+json)(;|$)/i.test(input.contentType);
        let parsed: unknown;
        try {
          parsed = JSON.parse(input.body);
        } catch {
          parsed = undefined;
        }
        const limit = input.cfg.maxBodyBytes ?? 512 << 10;
        // A chunking that crosses the limit is passed on unchanged from that chunk on.
        const rewritten = isJson && size > 0 && size <= limit && parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
        if (rewritten) {
          const expected = { ...(parsed as object), [input.cfg.field]: input.cfg.value };
          assert.deepEqual(JSON.parse(out.body), JSON.parse(JSON.stringify(expected)), out.body);
          assert.equal(out.headers.find(([k]) => k === "content-length"), undefined);
        } else if (!isJson || size === 0) {
          assert.equal(out.body, input.body);
        }
      }),
      400,
    );
    for (const [key, plugin] of plugins) {
      const inputs = seen.filter((i) => JSON.stringify(i.cfg) === key);
      assert.equal(growthOnReplay(plugin, inputs, run), 0, key);
    }
  });

  it("rate-limit: a token bucket per key on a fixed clock, under random keys and time steps", () => {
    const step = fc.record({ key: fc.constantFrom("a", "b", "A", "", "é", undefined), waitMs: fc.constantFrom(0, 0, 0, 1, 250, 1000, 5000), dup: fc.boolean() });
    const config = fc.record({ rate: fc.constantFrom<number>(1, 2, 0.5, 10), burst: fc.constantFrom<number>(1, 2, 3, 5) });
    let vm = 0;
    assertProperty(
      fc.property(config, fc.array(step, { minLength: 1, maxLength: 30 }), (cfg, steps) => {
        const plugin = createPlugin(examplePlugin("rate-limit"), {
          vmId: `rl-prop-${++vm}`,
          now: 0,
          configuration: JSON.stringify({ requestsPerSecond: cfg.rate, burst: cfg.burst, keyHeader: "x-key" }),
        });
        assert.equal(plugin.start().ok, true);
        const buckets = new Map<string, { tokens: number; last: bigint }>();
        let nowNs = 0n;
        for (const s of steps) {
          if (s.waitMs > 0) plugin.advanceTime(s.waitMs);
          nowNs += BigInt(s.waitMs) * 1_000_000n;
          const headers: Headers = s.key === undefined ? [] : [["x-key", s.key]];
          if (s.dup && s.key !== undefined) headers.push(["X-Key", "other"]);
          const result = plugin.runHttpRequest({ requestHeaders: headers });
          assertNoTrap(plugin, result);
          // Model: the first x-key value, or the source address when it is absent or empty.
          const bucketKey = s.key ? `header:${s.key}` : "address:127.0.0.1";
          const b = buckets.get(bucketKey);
          let tokens = cfg.burst;
          if (b) tokens = Math.min(cfg.burst, b.tokens + (nowNs > b.last ? Number(nowNs - b.last) / 1e9 : 0) * cfg.rate);
          if (tokens < 1) {
            assert.equal(result.localResponse?.status, 429, JSON.stringify({ cfg, steps, s }));
            const retry = Math.max(1, Math.ceil((1 - tokens) / cfg.rate));
            assert.deepEqual(result.localResponse?.headers, [["retry-after", String(retry)]]);
          } else {
            assert.equal(result.localResponse, null, JSON.stringify({ cfg, steps, s }));
            buckets.set(bucketKey, { tokens: tokens - 1, last: nowNs });
          }
        }
      }),
      200,
    );
  });

  it("metrics: counters match the methods and status classes sent, the in-flight gauge returns to 0", () => {
    const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
    const method = fc.oneof(fc.constantFrom(...METHODS, "get", "BREW", ""), fc.uint8Array({ maxLength: 6 }));
    const status = fc.oneof(fc.constantFrom("200", "404", "503", "100", "302", "999", "600", "20", "2000", ""), fc.string({ maxLength: 4 }));
    let vm = 0;
    assertProperty(
      fc.property(fc.array(fc.tuple(method, status, headerList), { minLength: 1, maxLength: 8 }), (requests) => {
        // Not `now: 0`: the example takes a start time of 0 for "no request headers seen".
        const plugin = createPlugin(examplePlugin("metrics"), { vmId: `metrics-prop-${++vm}`, now: Date.UTC(2024, 0, 1) });
        assert.equal(plugin.start().ok, true);
        const expected = new Map<string, bigint>();
        const bump = (name: string) => expected.set(name, (expected.get(name) ?? 0n) + 1n);
        for (const [m, st, extra] of requests) {
          const result = plugin.runHttpRequest({ requestHeaders: [[":method", m], ...extra], responseHeaders: [[":status", st]] });
          assertNoTrap(plugin, result);
          // The filter reads the first (here: the one, inline) :method value.
          const methodText = firstValue(envoyHeaderMap(withRequestDefaults([[":method", m], ...extra])), ":method") ?? "";
          bump(`requests_total.method=${METHODS.includes(methodText) ? methodText : "other"}`);
          const cls = st.length === 3 ? `${st[0]}xx` : "";
          bump(`responses_total.class=${["1xx", "2xx", "3xx", "4xx", "5xx"].includes(cls) ? cls : "other"}`);
        }
        for (const [name, value] of expected) assert.equal(plugin.metric(name)?.value, value, name);
        assert.equal(plugin.metric("requests_in_flight")?.value, 0n);
        assert.equal(plugin.metric("request_duration_ms")?.samples.length, requests.length);
      }),
      150,
    );
  });

  it("http-auth: the client's x-auth-user never reaches the upstream unless the auth service vouched for it", () => {
    const answer = fc.oneof(
      fc.record({ status: fc.constantFrom(200, 401, 403, 500, 302), user: fc.option(fc.constantFrom("ann", "bob", ""), { nil: undefined }) }),
      fc.constantFrom("fail" as const, "timeout" as const),
    );
    const plugin = createPlugin(examplePlugin("http-auth"), { configuration: '{"cluster": "auth"}' });
    assert.equal(plugin.start().ok, true);
    assertProperty(
      fc.property(headerList, answer, (req, ans) => {
        const claims: Headers = [...req, ["X-Auth-User", "mallory"]];
        const result = plugin.runHttpRequest({
          requestHeaders: claims,
          httpCallResponses: [typeof ans === "string" ? ans : { status: ans.status, headers: ans.user === undefined ? [] : [["x-auth-user", ans.user]] }],
          responseBody: [UPSTREAM_SECRET],
        });
        assertNoTrap(plugin, result);
        const credentials = valuesOf(withRequestDefaults(claims), "authorization");
        if (credentials.length > 1) {
          // Only one credential could be checked: the request is refused before any check or upstream.
          assert.equal(result.httpCalls.length, 0);
          assert.equal(result.upstreamRequest, null);
          assert.equal(result.localResponse?.status, 400);
          return;
        }
        const call = result.httpCalls[0];
        const auth = credentials[0];
        assert.equal(call.headers.find(([k]) => k === "authorization")?.[1], auth === undefined ? undefined : dec.decode(auth));
        if (typeof ans !== "string" && ans.status === 200) {
          const users = valuesOf(result.upstreamRequest!.headerBytes as Headers, "x-auth-user").map((v) => dec.decode(v));
          assert.deepEqual(users, ans.user === undefined ? [] : [ans.user]);
        } else {
          assert.equal(result.upstreamRequest, null);
          const status = typeof ans === "string" ? 503 : ans.status === 401 || ans.status === 403 ? ans.status : 503;
          assert.equal(result.localResponse?.status, status);
          assert.ok(!JSON.stringify(result.downstreamResponse).includes(UPSTREAM_SECRET));
        }
      }),
      250,
    );
  });

  it("every example and test filter: random hostile configurations make on_configure answer true or false, never trap", () => {
    const cases: { name: string; wasm: Uint8Array; rootId?: string; valid: string[] }[] = [
      { name: "add-header", wasm: examplePlugin("add-header"), valid: ['{"name": "a", "value": "b"}'] },
      { name: "body-rewrite", wasm: examplePlugin("body-rewrite"), valid: ['{"field": "a", "value": {"b": [1, 2]}, "maxBodyBytes": 100}'] },
      { name: "grpc-call", wasm: examplePlugin("grpc-call"), valid: ['{"cluster": "c", "service": "s", "method": "m", "timeoutMs": 5}'] },
      { name: "http-auth", wasm: examplePlugin("http-auth"), valid: ['{"cluster": "auth", "path": "/check", "timeoutMs": 100}'] },
      { name: "metrics", wasm: examplePlugin("metrics"), valid: [""] },
      { name: "prime-authorizer", wasm: examplePlugin("prime-authorizer"), valid: ['{"header": "x-token"}', "x-token"] },
      { name: "queue", wasm: examplePlugin("queue"), rootId: "queue-consumer", valid: [""] },
      { name: "rate-limit", wasm: examplePlugin("rate-limit"), valid: ['{"requestsPerSecond": 10, "burst": 20, "keyHeader": "x-api-key"}'] },
      { name: "tcp-guard", wasm: examplePlugin("tcp-guard"), valid: ['{"pattern": "DROP TABLE"}'] },
      { name: "token-cache", wasm: examplePlugin("token-cache"), rootId: "token-fetcher", valid: ['{"cluster": "tokens", "path": "/t", "refreshMs": 1000}'] },
      { name: "sdk-api", wasm: testFilter("sdk-api"), rootId: "scenarios", valid: ["log-levels", "properties"] },
    ];
    for (const c of cases) {
      assertProperty(
        fc.property(hostileConfiguration(c.valid), (configuration) => {
          const plugin = createPlugin(c.wasm, { configuration, rootId: c.rootId, vmId: `cfg-${c.name}` });
          const start = plugin.start();
          if (!start.ok) {
            assert.match(start.error ?? "", /proxy_on_configure returned false/, `${c.name}: ${start.error}`);
            assert.ok(start.logs.some((l) => l.level === "error" || l.level === "critical"), `${c.name}: refused without saying why`);
          } else {
            plugin.runHttpRequest({ requestHeaders: [["x", "y"]] });
            assertNoTrap(plugin);
          }
        }),
        50,
      );
    }
  });

  it("the SDK's API (tests/filters/sdk-api) and the ABI filter take hostile headers and bodies without a trap", () => {
    const scenarios = ["log-levels", "properties", "body", "headers", "replace-all"].map((configuration) => {
      const plugin = createPlugin(testFilter("sdk-api"), { rootId: "scenarios", configuration });
      return plugin;
    });
    const abi = ["shared-data", "metrics", "foreign"].map((configuration) => createPlugin(testFilter("abi"), { configuration, vmId: "abi-prop" }));
    const all = [...scenarios, ...abi].filter((p) => p.start().ok);
    assert.ok(all.length >= 5);
    assertProperty(
      fc.property(headerList, chunkedBody, headerList, chunkedBody, fc.option(headerList, { nil: undefined }), (req, body, resp, respBody, trailers) => {
        for (const plugin of all) {
          const result = plugin.runHttpRequest({ requestHeaders: req, requestBody: body, requestTrailers: trailers, responseHeaders: resp, responseBody: respBody });
          assertNoTrap(plugin, result);
        }
      }),
      80,
    );
  });

  it("tcp-guard: a pattern split across any chunking closes the connection, other data passes byte for byte", () => {
    const plugin = createPlugin(examplePlugin("tcp-guard"), { configuration: '{"pattern": "DROP TABLE"}' });
    assert.equal(plugin.start().ok, true);
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (data, inject, cuts) => {
        const payload = inject ? Buffer.concat([data, Buffer.from("DROP TABLE"), data]) : data;
        const result = plugin.runTcpConnection({ downstreamData: split(payload, cuts), upstreamData: ["ok"] });
        assertNoTrap(plugin);
        const contains = Buffer.from(payload).includes("DROP TABLE");
        if (!contains) assert.equal(Buffer.compare(result.upstreamBytes, payload), 0);
        else assert.equal(result.closedBy, "plugin");
      }),
      300,
    );
  });
});
