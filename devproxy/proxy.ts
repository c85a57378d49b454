// The dev proxy: a local HTTP/1.1 proxy that serves real traffic through a chain of Proxy-Wasm
// filters on the Node host, then forwards to an upstream URL or to the built-in echo upstream.
// Callouts (http_call) go to real URLs mapped per cluster, ticks run on real timers, shared data
// and queues are shared by filters with the same vm id (one process = one Envoy), metrics are on
// the admin port's GET /stats. With `watch`, a filter is reloaded when its .wasm changes; a new
// version that does not start is refused and the old one keeps serving.

import { createHash, randomUUID } from "node:crypto";
import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, resolve } from "node:path";
import type { Writable } from "node:stream";
import type { LogLevelName } from "../host/abi/enums.js";
import { createPlugin, type Header, type PendingHttpCall, type Plugin } from "../host/index.js";
import { Exchange, type ExchangeEnds } from "./exchange.js";
import { Logger, type LogLine } from "./log.js";
import { prometheusText } from "./stats.js";

export interface FilterSpec {
  /** Path of the filter's .wasm file. */
  path: string;
  /** Shown in logs and metrics; by default the project folder of build/plugin.wasm, or the file name. */
  name?: string;
  configuration?: string | Uint8Array;
  rootId?: string;
  vmId?: string;
}

export interface DevProxyOptions {
  filters: FilterSpec[];
  port?: number;
  host?: string;
  /** null: no admin server. */
  adminPort?: number | null;
  /** http://host:port[/prefix]; without one the built-in echo upstream answers. */
  upstream?: string | null;
  /** Cluster name -> base URL for http_call. */
  clusters?: Record<string, string>;
  watch?: boolean;
  failOpen?: boolean;
  logLevel?: LogLevelName;
  out?: Writable & { isTTY?: boolean };
  json?: boolean;
  verbose?: boolean;
}

/** A loaded version of one filter. */
interface Loaded {
  slot: Slot;
  plugin: Plugin;
  version: number;
  bytesHash: string;
  dispatched: Set<number>;
  grpcRefused: Set<number>;
  logCursor: number;
  tickTimer: NodeJS.Timeout | null;
  tickPeriod: number;
  exchanges: number;
  callouts: number;
  retired: boolean;
}

interface Slot {
  spec: FilterSpec;
  name: string;
  path: string;
  current: Loaded;
  reloadTimer: NodeJS.Timeout | null;
  /** The configuration as given (text or the file's bytes, read once). */
}

const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length",
]);
const EMPTY = new Uint8Array(0);

export class DevProxy {
  private readonly log: Logger;
  private readonly slots: Slot[] = [];
  private readonly loaded = new Set<Loaded>();
  private readonly exchanges = new Set<Exchange>();
  private server: http.Server | null = null;
  private admin: http.Server | null = null;
  private settling = false;
  private readonly counts = { requests: 0, byStatus: new Map<number, number>(), reloads: 0, reloadsRefused: 0, callouts: 0, calloutFailures: 0 };
  url = "";
  adminUrl = "";

  constructor(private readonly options: DevProxyOptions) {
    this.log = new Logger(options.out ?? process.stdout, options.json === true, options.verbose === true);
    if (options.filters.length === 0) throw new Error("no filter given: pass at least one PLUGIN.wasm");
    if (options.upstream) {
      const u = new URL(options.upstream);
      if (u.protocol !== "http:") throw new Error(`--upstream ${options.upstream}: only http:// upstreams are supported`);
    }
    for (const [name, url] of Object.entries(options.clusters ?? {})) {
      if (new URL(url).protocol !== "http:") throw new Error(`--cluster ${name}=${url}: only http:// URLs are supported`);
    }
  }

  /** Loads and starts every filter (throws with the reason if one does not start), then listens. */
  async start(): Promise<{ url: string; adminUrl: string }> {
    const names = new Set<string>();
    for (const spec of this.options.filters) {
      const base = spec.name ?? (spec.rootId ? `${filterName(spec.path)}/${spec.rootId}` : filterName(spec.path));
      let name = base;
      for (let i = 2; names.has(name); i++) name = `${base}#${i}`;
      names.add(name);
      const path = resolve(spec.path);
      const slot = { spec, name, path, reloadTimer: null } as unknown as Slot;
      const bytes = readWasm(path);
      const result = this.load(slot, bytes, 1);
      if ("error" in result) throw new Error(`${name} (${spec.path}) did not start: ${result.error}`);
      slot.current = result.loaded;
      this.slots.push(slot);
    }
    const host = this.options.host ?? "127.0.0.1";
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("clientError", (_err, socket) => socket.destroy());
    const port = await listen(this.server, this.options.port ?? 10000, host);
    this.url = `http://${hostForUrl(host)}:${port}`;
    if (this.options.adminPort !== null) {
      this.admin = http.createServer((req, res) => this.handleAdmin(req, res));
      const adminPort = await listen(this.admin, this.options.adminPort ?? 9901, host);
      this.adminUrl = `http://${hostForUrl(host)}:${adminPort}`;
    }
    if (this.options.watch) for (const slot of this.slots) this.watch(slot);
    const chain = this.slots.map((s) => s.name).join(" → ");
    const upstream = this.options.upstream ?? "built-in echo upstream";
    this.log.event(
      "listening",
      { url: this.url, admin: this.adminUrl || null, filters: this.slots.map((s) => ({ name: s.name, path: s.path })), upstream },
      `listening on ${this.url}\n  filters:  ${chain}\n  upstream: ${upstream}` +
        (Object.keys(this.options.clusters ?? {}).length
          ? `\n  clusters: ${Object.entries(this.options.clusters!).map(([k, v]) => `${k}=${v}`).join(", ")}`
          : "") +
        (this.adminUrl ? `\n  admin:    ${this.adminUrl}/stats` : "") +
        (this.options.watch ? "\n  watching the .wasm files for changes" : ""),
    );
    if (!isLoopback(host)) this.log.warn(`bound to ${host}: not only this machine can reach the proxy`);
    this.settle();
    return { url: this.url, adminUrl: this.adminUrl };
  }

  async stop(): Promise<void> {
    for (const slot of this.slots) {
      unwatchFile(slot.path);
      if (slot.reloadTimer) clearTimeout(slot.reloadTimer);
    }
    for (const l of this.loaded) this.stopTicks(l);
    for (const ex of this.exchanges) ex.finish();
    this.exchanges.clear();
    const close = (s: http.Server | null) =>
      new Promise<void>((done) => {
        if (!s) return done();
        s.close(() => done());
        s.closeAllConnections();
      });
    await Promise.all([close(this.server), close(this.admin)]);
  }

  // ---- Filters: load, reload, ticks, callouts, logs ---------------------------------------

  private load(slot: Slot, bytes: Uint8Array, version: number): { loaded: Loaded } | { error: string } {
    const spec = slot.spec;
    const plugin = createPlugin(bytes, {
      name: slot.name,
      rootId: spec.rootId,
      vmId: spec.vmId,
      configuration: spec.configuration,
      failOpen: this.options.failOpen === true,
      logLevel: this.options.logLevel ?? "info",
      clusters: Object.keys(this.options.clusters ?? {}),
    });
    const start = plugin.start();
    this.log.pluginLogs(start.logs.map((l) => ({ filter: slot.name, ...l })));
    if (!start.ok) return { error: start.error ?? "the plugin did not start" };
    const loaded: Loaded = {
      slot,
      plugin,
      version,
      bytesHash: createHash("sha256").update(bytes).digest("hex"),
      dispatched: new Set(),
      grpcRefused: new Set(),
      logCursor: plugin.logs.length,
      tickTimer: null,
      tickPeriod: 0,
      exchanges: 0,
      callouts: 0,
      retired: false,
    };
    this.loaded.add(loaded);
    return { loaded };
  }

  private watch(slot: Slot): void {
    watchFile(slot.path, { interval: 200 }, (curr: Stats, prev: Stats) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
      if (slot.reloadTimer) clearTimeout(slot.reloadTimer);
      // Let the writer finish (asc writes the file in one go; editors and cp may not).
      slot.reloadTimer = setTimeout(() => {
        slot.reloadTimer = null;
        this.reload(slot);
      }, 150);
    });
  }

  private reload(slot: Slot): void {
    const old = slot.current;
    let bytes: Uint8Array;
    try {
      bytes = readWasm(slot.path);
    } catch (e) {
      return this.refuse(slot, (e as Error).message);
    }
    if (createHash("sha256").update(bytes).digest("hex") === old.bytesHash) return;
    const result = this.load(slot, bytes, old.version + 1);
    if ("error" in result) return this.refuse(slot, result.error);
    slot.current = result.loaded;
    old.retired = true;
    this.stopTicks(old);
    this.retireIfIdle(old);
    this.counts.reloads++;
    this.log.event(
      "reload",
      { filter: slot.name, ok: true, version: result.loaded.version },
      `reloaded ${slot.name} (version ${result.loaded.version}) from ${slot.path}`,
    );
    this.settle();
  }

  private refuse(slot: Slot, reason: string): void {
    this.counts.reloadsRefused++;
    this.log.event(
      "reload",
      { filter: slot.name, ok: false, version: slot.current.version, error: reason },
      `reload refused: ${slot.name} changed but the new version did not start: ${reason}; still serving version ${slot.current.version}`,
      "red",
    );
  }

  /** A replaced version that has nothing in flight: on_done/on_delete (Envoy drains it), then forget it. */
  private retireIfIdle(l: Loaded): void {
    if (!l.retired || l.exchanges > 0 || l.callouts > 0 || !this.loaded.has(l)) return;
    this.stopTicks(l);
    this.loaded.delete(l);
    const plugin = l.plugin as Plugin & { shutdown?: () => unknown };
    try {
      if (typeof plugin.shutdown === "function" && plugin.started) plugin.shutdown();
    } catch (e) {
      this.log.error(`${l.slot.name}: shutting down version ${l.version} failed: ${(e as Error).message}`);
    }
    this.flushLogs(l);
  }

  private stopTicks(l: Loaded): void {
    if (l.tickTimer) clearInterval(l.tickTimer);
    l.tickTimer = null;
    l.tickPeriod = 0;
  }

  private updateTicks(l: Loaded): void {
    if (l.retired || !l.plugin.started) return;
    const period = l.plugin.tickPeriodMs;
    if (period === l.tickPeriod) return;
    this.stopTicks(l);
    l.tickPeriod = period;
    if (period > 0) {
      l.tickTimer = setInterval(() => {
        try {
          l.plugin.tick();
        } catch (e) {
          this.log.error(`${l.slot.name}: tick failed: ${(e as Error).message}`);
        }
        this.settle();
      }, period);
    }
  }

  /**
   * After anything happened: run work posted across VMs, send new callouts, print plugin logs,
   * update tick timers, and move every exchange along, until nothing changes.
   */
  private settle(): void {
    if (this.settling) return;
    this.settling = true;
    try {
      for (let round = 0; round < 1000; round++) {
        let progress = false;
        for (const l of this.loaded) {
          progress = this.dispatchCallouts(l) || progress;
          progress = this.refuseGrpc(l) || progress;
          this.flushLogs(l);
          this.updateTicks(l);
        }
        for (const ex of this.exchanges) progress = ex.pump() || progress;
        if (!progress) break;
      }
    } finally {
      this.settling = false;
    }
  }

  private flushLogs(l: Loaded): void {
    const logs = l.plugin.logs;
    if (logs.length <= l.logCursor) return;
    const fresh = logs.slice(l.logCursor).map((e) => ({ filter: l.slot.name, ...e }));
    l.logCursor = logs.length;
    this.log.pluginLogs(fresh);
  }

  private dispatchCallouts(l: Loaded): boolean {
    let any = false;
    for (const call of l.plugin.pendingHttpCalls()) {
      if (l.dispatched.has(call.token)) continue;
      l.dispatched.add(call.token);
      any = true;
      this.callout(l, call);
    }
    return any;
  }

  /** gRPC is not routed by the dev proxy: fail each call at once rather than leave it hanging. */
  private refuseGrpc(l: Loaded): boolean {
    let any = false;
    for (const call of l.plugin.grpcCalls()) {
      if (l.grpcRefused.has(call.token)) continue;
      l.grpcRefused.add(call.token);
      any = true;
      this.log.warn(`${l.slot.name}: gRPC call to ${call.upstream} ${call.serviceName}/${call.method} closed with UNAVAILABLE: the dev proxy does not route gRPC yet`);
      setImmediate(() => {
        try {
          l.plugin.failGrpcCall(call.token, 14, "the dev proxy does not route gRPC");
        } catch (e) {
          this.log.error(`${l.slot.name}: closing the gRPC call failed: ${(e as Error).message}`);
        }
        this.settle();
      });
    }
    return any;
  }

  private callout(l: Loaded, call: PendingHttpCall): void {
    this.counts.callouts++;
    l.callouts++;
    const base = this.options.clusters?.[call.upstream];
    const pseudo = (name: string) => call.headers.find(([k]) => k === name)?.[1] ?? "";
    const method = pseudo(":method") || "GET";
    const path = pseudo(":path") || "/";
    const started = performance.now();
    let answered = false;
    const answer = (response: { headers: Header[]; body: Uint8Array; trailers: Header[] } | null | "timeout", failure?: string) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      l.callouts--;
      const ms = Math.round(performance.now() - started);
      if (response === null || response === "timeout") {
        this.counts.calloutFailures++;
        this.log.warn(`${l.slot.name}: callout to cluster '${call.upstream}' ${method} ${path} failed after ${ms} ms: ${failure}`, {
          filter: l.slot.name,
          cluster: call.upstream,
        });
      } else if (this.options.verbose) {
        const status = response.headers.find(([k]) => k === ":status")?.[1];
        this.log.pluginLogs([{ filter: l.slot.name, level: "debug", message: `callout to cluster '${call.upstream}' ${method} ${path} → ${status} (${ms} ms)` }]);
      }
      try {
        if (response === "timeout") l.plugin.timeoutHttpCall(call.token);
        else l.plugin.respondToHttpCall(call.token, response);
      } catch (e) {
        this.log.error(`${l.slot.name}: delivering the callout response failed: ${(e as Error).message}`);
      }
      this.retireIfIdle(l);
      this.settle();
    };
    const timer = setTimeout(() => {
      request?.destroy();
      answer("timeout", `timed out (${call.timeoutMs} ms): the plugin gets Envoy's 504 "upstream request timeout"`);
    }, call.timeoutMs > 0 ? call.timeoutMs : 2 ** 31 - 1);
    let request: http.ClientRequest | null = null;
    if (!base) {
      setImmediate(() => answer(null, `no URL for cluster '${call.upstream}': pass --cluster ${call.upstream}=http://HOST:PORT`));
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of call.headers) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
      ((headers[k.toLowerCase()] ??= []) as string[]).push(v);
    }
    headers.host = pseudo(":authority") || new URL(base).host;
    const body = call.bodyBytes ? Buffer.from(call.bodyBytes) : Buffer.from(call.body, "utf8");
    if (body.length > 0 || !["GET", "HEAD"].includes(method)) headers["content-length"] = String(body.length);
    request = http.request(joinUrl(base, path), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        answer({
          headers: [[":status", String(res.statusCode)], ...pairs(res.rawHeaders)],
          body: new Uint8Array(Buffer.concat(chunks)),
          trailers: pairs(res.rawTrailers),
        }),
      );
      res.on("error", (e) => answer(null, e.message));
    });
    request.on("error", (e) => answer(null, `${base}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    request.end(body);
  }

  // ---- One request ------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    const chain = this.slots.map((s) => s.current);
    for (const l of chain) l.exchanges++;
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    let status: number | null = null;
    let error: string | undefined;
    let done = false;
    let upstream: { abort(): void } | null = null;
    let responseStarted = false;
    let declared: number | null = null;
    let written = 0;
    const lengthMismatch = () => {
      error = `a filter changed the response body to ${written}+ bytes but content-length says ${declared}: remove or update content-length when rewriting a body (Envoy would send a broken response too)`;
      this.log.error(`${method} ${path}: ${error}`);
      res.destroy();
      finish();
    };
    const endClient = () => {
      if (declared !== null && written !== declared && method !== "HEAD") return lengthMismatch();
      res.end();
      finish();
    };

    const finish = () => {
      if (done) return;
      done = true;
      this.exchanges.delete(exchange);
      upstream?.abort();
      const outcomes = exchange.finish();
      for (const l of chain) {
        l.exchanges--;
        this.retireIfIdle(l);
      }
      this.counts.requests++;
      if (status !== null) this.counts.byStatus.set(status, (this.counts.byStatus.get(status) ?? 0) + 1);
      const logs: LogLine[] = outcomes.flatMap((o) => o.result.logs.map((e) => ({ filter: o.filter, ...e })));
      this.log.request({
        method,
        path,
        status,
        durationMs: Math.round(performance.now() - started),
        endedBy: exchange.endedBy,
        filters: outcomes.map((o) => ({ name: o.filter, phases: o.result.phases })),
        logs,
        ...(error ? { error } : {}),
      });
      this.settle();
    };

    const ends: ExchangeEnds = {
      upstreamHeaders: (headers, eos, knownLength) => {
        upstream = this.options.upstream
          ? this.realUpstream(this.options.upstream, exchange, headers, eos, knownLength, (e) => (error = e))
          : echoUpstream(exchange, headers, eos, () => this.settle());
      },
      upstreamBody: (chunk, eos) => (upstream as UpstreamHandle | null)?.body(chunk, eos),
      upstreamTrailers: (trailers) => (upstream as UpstreamHandle | null)?.trailers(trailers),
      abortUpstream: () => upstream?.abort(),
      clientHeaders: (headers, eos, knownLength) => {
        responseStarted = true;
        status = Number(headers.find(([k]) => k === ":status")?.[1] ?? 502);
        const out: string[] = [];
        for (const [k, v] of headers) {
          if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
          out.push(k, v);
        }
        // As Envoy: the content-length the chain ends with goes out as is; without one, the
        // length is set when the whole body is already known, else the body is chunked.
        const declaredText = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
        if (declaredText !== undefined && /^\d+$/.test(declaredText)) declared = Number(declaredText);
        else if (knownLength !== null && !noBodyStatus(status) && method !== "HEAD") declared = knownLength;
        if (declared !== null && !noBodyStatus(status)) out.push("content-length", String(declared));
        if (method === "HEAD") declared = null;
        res.writeHead(status, out);
        if (eos) endClient();
      },
      clientBody: (chunk, eos) => {
        if (chunk.length > 0 && method !== "HEAD" && !noBodyStatus(status ?? 200)) {
          written += chunk.length;
          if (declared !== null && written > declared) return lengthMismatch();
          res.write(chunk);
        }
        if (eos) endClient();
      },
      clientTrailers: (trailers) => {
        if (trailers.length > 0 && declared === null) res.addTrailers(Object.fromEntries(trailers));
        endClient();
      },
      reset: (filter) => {
        error = `stream reset by ${filter}`;
        res.destroy();
        finish();
      },
    };

    const exchange = new Exchange(
      chain.map((l) => ({ name: l.slot.name, plugin: l.plugin })),
      {
        "source.address": `${req.socket.remoteAddress}:${req.socket.remotePort}`,
        "source.port": BigInt(req.socket.remotePort ?? 0),
        "destination.address": `${req.socket.localAddress}:${req.socket.localPort}`,
        "destination.port": BigInt(req.socket.localPort ?? 0),
      },
      ends,
    );
    this.exchanges.add(exchange);

    res.on("close", () => {
      if (!done) {
        error = responseStarted ? "client closed the connection during the response" : "client went away";
        finish();
      }
    });

    const headers: Header[] = [
      [":method", method],
      [":path", path],
      [":authority", req.headers.host ?? this.url.replace(/^http:\/\//, "")],
      [":scheme", "http"],
      ...pairs(req.rawHeaders).filter(([k]) => !HOP_BY_HOP.has(k) || k === "content-length"),
    ];
    if (!req.headers["x-request-id"]) headers.push(["x-request-id", randomUUID()]);
    headers.push(["x-forwarded-proto", "http"]);
    const length = req.headers["content-length"] !== undefined ? Number(req.headers["content-length"]) : null;
    const chunked = req.headers["transfer-encoding"] !== undefined;
    const noBody = !chunked && (length === null || length === 0);
    exchange.requestHeaders(headers, noBody);
    this.settle();
    if (noBody) {
      req.resume();
      return;
    }
    let received = 0;
    let ended = false;
    req.on("data", (chunk: Buffer) => {
      if (done || ended) return;
      received += chunk.length;
      ended = !chunked && length !== null && received >= length;
      exchange.requestBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
      this.settle();
    });
    req.on("end", () => {
      if (done || ended) return;
      ended = true;
      const trailers = pairs(req.rawTrailers);
      if (trailers.length > 0) exchange.requestTrailers(trailers);
      else exchange.requestBody(EMPTY, true);
      this.settle();
    });
  }

  private realUpstream(
    base: string,
    exchange: Exchange,
    headers: Header[],
    eos: boolean,
    knownLength: number | null,
    onError: (e: string) => void,
  ): UpstreamHandle {
    const pseudo = (name: string) => headers.find(([k]) => k === name)?.[1] ?? "";
    const method = pseudo(":method") || "GET";
    const target = joinUrl(base, pseudo(":path") || "/");
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of headers) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
      ((out[k.toLowerCase()] ??= []) as string[]).push(v);
    }
    out.host = target.host;
    if (pseudo(":authority")) out["x-forwarded-host"] = pseudo(":authority");
    const declared = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
    if (declared !== undefined && /^\d+$/.test(declared)) out["content-length"] = declared;
    else if (knownLength !== null && (knownLength > 0 || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(method))) {
      out["content-length"] = String(knownLength);
    }
    let aborted = false;
    let responded = false;
    const request = http.request(target, { method, headers: out }, (res) => {
      responded = true;
      const status = res.statusCode ?? 502;
      const response: Header[] = [[":status", String(status)], ...pairs(res.rawHeaders).filter(([k]) => !HOP_BY_HOP.has(k) || k === "content-length")];
      const clen = res.headers["content-length"] !== undefined ? Number(res.headers["content-length"]) : null;
      const noBody = method === "HEAD" || noBodyStatus(status) || (clen === 0 && res.headers["transfer-encoding"] === undefined);
      exchange.responseHeaders(response, noBody);
      this.settle();
      if (noBody) {
        res.resume();
        return;
      }
      let received = 0;
      let ended = false;
      res.on("data", (chunk: Buffer) => {
        if (aborted || ended) return;
        received += chunk.length;
        ended = clen !== null && received >= clen;
        exchange.responseBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
        this.settle();
      });
      res.on("end", () => {
        if (aborted || ended) return;
        ended = true;
        const trailers = pairs(res.rawTrailers);
        if (trailers.length > 0) exchange.responseTrailers(trailers);
        else exchange.responseBody(EMPTY, true);
        this.settle();
      });
    });
    request.on("error", (e) => {
      if (aborted) return;
      const code = (e as NodeJS.ErrnoException).code ?? e.message;
      onError(`upstream ${base}: ${code}`);
      this.log.error(`upstream ${target.href} failed: ${code}`);
      if (!responded) {
        // What Envoy's router answers when the upstream cannot be reached; it goes through the
        // filters' response callbacks like any response.
        const body = new TextEncoder().encode(`upstream connect error or disconnect/reset before headers. reset reason: ${code}`);
        exchange.responseHeaders([[":status", "503"], ["content-type", "text/plain"], ["content-length", String(body.length)]], false);
        exchange.responseBody(body, true);
        this.settle();
      }
    });
    if (eos) request.end();
    return {
      body: (chunk, end) => {
        if (aborted) return;
        try {
          if (chunk.length > 0) request.write(chunk);
          if (end) request.end();
        } catch (e) {
          // e.g. a filter changed the request body but not its content-length
          request.destroy(e as Error);
        }
      },
      trailers: (trailers) => {
        if (aborted) return;
        if (trailers.length > 0 && !out["content-length"]) request.addTrailers(Object.fromEntries(trailers));
        request.end();
      },
      abort: () => {
        aborted = true;
        request.destroy();
      },
    };
  }

  // ---- Admin ------------------------------------------------------------------------------

  private handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "GET only\n");
    const filters = this.slots.map((s) => ({ name: s.name, version: s.current.version, metrics: s.current.plugin.metrics() }));
    switch (url.pathname) {
      case "/stats":
        if (url.searchParams.get("format") === "json") {
          return send(200, "application/json", `${JSON.stringify({ proxy: this.proxyStats(), filters }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2)}\n`);
        }
        return send(200, "text/plain; version=0.0.4", prometheusText(filters, this.proxyStats()));
      case "/stats/prometheus":
        return send(200, "text/plain; version=0.0.4", prometheusText(filters, this.proxyStats()));
      case "/ready":
        return send(200, "text/plain", "LIVE\n");
      case "/":
        return send(200, "text/plain", "proxy-wasm-as dev proxy admin\n  GET /stats            Prometheus text\n  GET /stats?format=json\n  GET /ready\n");
      default:
        return send(404, "text/plain", "not found\n");
    }
  }

  private proxyStats() {
    return {
      requests: this.counts.requests,
      byStatus: [...this.counts.byStatus.entries()],
      reloads: this.counts.reloads,
      reloadsRefused: this.counts.reloadsRefused,
      callouts: this.counts.callouts,
      calloutFailures: this.counts.calloutFailures,
    };
  }
}

export interface UpstreamHandle {
  body(chunk: Uint8Array, endOfStream: boolean): void;
  trailers(trailers: Header[]): void;
  abort(): void;
}

/** The built-in upstream: 200 with the request it saw (after the filters) as JSON. */
function echoUpstream(exchange: Exchange, headers: Header[], eos: boolean, settle: () => void): UpstreamHandle {
  const chunks: Uint8Array[] = [];
  let trailers: Header[] = [];
  let aborted = false;
  const answer = () =>
    setImmediate(() => {
      if (aborted) return;
      const pseudo = (name: string) => headers.find(([k]) => k === name)?.[1];
      const joined = (list: Header[]) => {
        const o: Record<string, string> = {};
        for (const [k, v] of list) if (!k.startsWith(":")) o[k] = k in o ? `${o[k]},${v}` : v;
        return o;
      };
      const seen = {
        method: pseudo(":method"),
        path: pseudo(":path"),
        authority: pseudo(":authority"),
        headers: joined(headers),
        body: Buffer.concat(chunks).toString("utf8"),
        ...(trailers.length ? { trailers: joined(trailers) } : {}),
      };
      const body = new TextEncoder().encode(`${JSON.stringify(seen, null, 2)}\n`);
      exchange.responseHeaders(
        [[":status", "200"], ["content-type", "application/json"], ["content-length", String(body.length)], ["server", "proxy-wasm-as-echo"]],
        false,
      );
      exchange.responseBody(body, true);
      settle();
    });
  if (eos) answer();
  return {
    body: (chunk, end) => {
      chunks.push(chunk.slice());
      if (end) answer();
    },
    trailers: (t) => {
      trailers = t;
      answer();
    },
    abort: () => {
      aborted = true;
    },
  };
}

function readWasm(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === "ENOENT" ? `${path} not found (build it first: npx proxy-wasm-as build)` : err.message);
  }
}

/** examples/add-header/build/plugin.wasm → add-header; other/thing.wasm → thing. */
export function filterName(path: string): string {
  const abs = resolve(path);
  const file = basename(abs, ".wasm");
  const dir = dirname(abs);
  if (basename(dir) === "build") return basename(dirname(dir));
  return file;
}

/** Raw header list → lower-cased name/value pairs. */
function pairs(raw: string[]): Header[] {
  const out: Header[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

function joinUrl(base: string, path: string): URL {
  const u = new URL(base);
  const prefix = u.pathname.replace(/\/+$/, "");
  return new URL(`${u.protocol}//${u.host}${prefix}${path.startsWith("/") ? path : `/${path}`}`);
}

function noBodyStatus(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === "EADDRINUSE" ? `port ${port} on ${host} is in use (pick another with --port / --admin-port, or 0 for any)` : e.message));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
