// The dev proxy: a local HTTP/1.1 proxy that serves real traffic through a chain of Proxy-Wasm
// filters on the Node host, then forwards to an upstream URL or to the built-in echo upstream.
// Callouts (http_call) go to real URLs mapped per cluster, ticks run on real timers, shared data
// and queues are shared by filters with the same vm id (one process = one Envoy), metrics are on
// the admin port's GET /stats. With `watch`, a filter is reloaded when its .wasm changes; a new
// version that does not start is refused and the old one keeps serving.

import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";
import type { LogLevelName } from "../host/abi/enums.js";
import type { MetricValue } from "../host/index.js";
import { createAdminServer } from "./admin.js";
import { FilterSet, type FilterSetOptions, type FilterSpec } from "./filters.js";
import type { InspectorSink } from "./inspector/events.js";
import { InspectorModel } from "./inspector/model.js";
import { InspectorServer } from "./inspector/server.js";
import { createProxyServer, ENVOY_LIMITS, type Limits } from "./intake.js";
import { defaultRequestLogging, Logger, type RequestLogging } from "./log.js";
import { RecordingFile, recordedFilters } from "./record/file.js";
import { Recorder, type RecordSink } from "./record/recorder.js";
import { serveRequest, type RequestContext } from "./request.js";
import type { ProxyStats } from "./stats.js";
import { balanceConnections } from "./workers/balance.js";

export { filterName, type FilterSpec } from "./filters.js";
export { ENVOY_LIMITS, type Limits } from "./intake.js";

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
  /** Failure policy, reload backoff, callback deadline and emulated workers for every filter (PluginOptions). */
  vms?: FilterSetOptions["vms"];
  logLevel?: LogLevelName;
  out?: Writable & { isTTY?: boolean };
  json?: boolean;
  verbose?: boolean;
  /** Envoy's defaults (ENVOY_LIMITS) for whatever is not given. */
  limits?: Partial<Limits>;
  /** Which requests get a log line; default: all on a terminal or with `json`, else sampled. */
  requestLogging?: RequestLogging;
  /** In a worker thread (devproxy/workers): its index, on its log lines. */
  worker?: number;
  /** In a worker thread: serve the listening socket another worker opened (its fd), not `port`. */
  listenFd?: number;
  /** In one of several worker threads: the workers' connection counts and this one's index (workers/balance.ts). */
  balance?: { counts: SharedArrayBuffer; index: number };
  /** Print the "listening" banner (default true; the workers' main thread prints its own). */
  banner?: boolean;
  /** Write every exchange to this file (JSON Lines; see host/recording.ts). */
  record?: string;
  /** In a worker thread: where each recorded exchange goes (posted to the thread that writes the file), instead of `record`. */
  recordSink?: RecordSink;
  /** In a worker thread: where the inspector's events go (posted to the thread that serves the page), instead of a model of its own. */
  inspectorSink?: InspectorSink;
}

export class DevProxy {
  private readonly log: Logger;
  private readonly filters: FilterSet;
  private server: http.Server | null = null;
  private admin: http.Server | null = null;
  /** The inspector's model (what the page shows), with the admin port only. */
  readonly inspector: InspectorModel | null;
  private inspectorServer: InspectorServer | null = null;
  private readonly counts = { requests: 0, byStatus: new Map<number, number>() };
  private readonly limits: Limits;
  private readonly recorder: Recorder | null;
  private readonly recording: RecordingFile | null;
  url = "";
  adminUrl = "";

  constructor(private readonly options: DevProxyOptions) {
    const out = options.out ?? process.stdout;
    this.log = new Logger(out, options.json === true, options.verbose === true, {
      requests: options.requestLogging ?? defaultRequestLogging(out, options.json === true),
      worker: options.worker,
    });
    if (options.filters.length === 0) throw new Error("no filter given: pass at least one PLUGIN.wasm");
    if (options.upstream) {
      const u = new URL(options.upstream);
      if (u.protocol !== "http:") throw new Error(`--upstream ${options.upstream}: only http:// upstreams are supported`);
    }
    for (const [name, url] of Object.entries(options.clusters ?? {})) {
      if (new URL(url).protocol !== "http:") throw new Error(`--cluster ${name}=${url}: only http:// URLs are supported`);
    }
    this.limits = { ...ENVOY_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && name !== "routeTimeoutMs")) throw new Error(`bad limit ${name}: ${value}`);
    }
    this.inspector = options.adminPort !== null ? new InspectorModel() : null;
    this.recording = options.record ? new RecordingFile(options.record, this.log) : null;
    const file = this.recording;
    const sink = options.recordSink ?? (file ? (r: Parameters<RecordSink>[0]) => file.append(r) : null);
    this.recorder = sink ? new Recorder(this.limits.bufferLimitBytes, sink) : null;
    const recorder = this.recorder;
    this.filters = new FilterSet(
      {
        filters: options.filters,
        clusters: options.clusters ?? {},
        failOpen: options.failOpen === true,
        vms: options.vms ?? {},
        logLevel: options.logLevel ?? "info",
        bufferLimitBytes: this.limits.bufferLimitBytes,
        verbose: options.verbose === true,
        inspector: options.inspectorSink ?? this.inspector?.accept,
        calloutAnswered: recorder ? (plugin, token, answer) => recorder.calloutAnswered(plugin, token, answer) : undefined,
      },
      this.log,
    );
  }

  /**
   * Loads and starts every filter, then listens on the proxy and admin ports. Throws with the
   * reason if a filter does not start or a port cannot be had, and then holds nothing open.
   */
  async start(): Promise<{ url: string; adminUrl: string }> {
    try {
      return await this.listen();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async listen(): Promise<{ url: string; adminUrl: string }> {
    this.filters.load();
    this.recording?.open(recordedFilters(this.filters), Object.keys(this.options.clusters ?? {}), this.limits.bufferLimitBytes);
    const host = this.options.host ?? "127.0.0.1";
    const ctx: RequestContext = {
      filters: this.filters,
      log: this.log,
      upstream: this.options.upstream ?? null,
      limits: this.limits,
      authority: "",
      recorder: this.recorder,
      counted: (status) => {
        this.counts.requests++;
        if (status !== null) this.counts.byStatus.set(status, (this.counts.byStatus.get(status) ?? 0) + 1);
      },
    };
    this.server = createProxyServer(this.limits, this.log, (req, res) => serveRequest(ctx, req, res));
    if (this.options.balance) balanceConnections(this.server, this.options.balance.counts, this.options.balance.index);
    const port = await listen(this.server, this.options.listenFd !== undefined ? { fd: this.options.listenFd } : (this.options.port ?? 10000), host, "port");
    this.url = `http://${hostForUrl(host)}:${port}`;
    ctx.authority = this.url.replace(/^http:\/\//, "");
    if (this.options.adminPort !== null) {
      this.inspectorServer = new InspectorServer(this.inspector!);
      this.admin = createAdminServer({ filters: () => this.stats().filters, proxyStats: () => this.stats().proxy }, this.inspectorServer);
      const adminPort = await listen(this.admin, this.options.adminPort ?? 9901, host, "admin port");
      this.adminUrl = `http://${hostForUrl(host)}:${adminPort}`;
    }
    if (this.options.watch) this.filters.watch();
    if (this.options.banner !== false) this.banner(host);
    this.filters.settle();
    return { url: this.url, adminUrl: this.adminUrl };
  }

  private banner(host: string): void {
    announce(this.log, {
      host,
      url: this.url,
      adminUrl: this.adminUrl,
      filters: this.filters.slots.map((s) => ({ name: s.name, path: s.path })),
      upstream: this.options.upstream ?? null,
      clusters: this.options.clusters ?? {},
      limits: this.limits,
      watch: this.options.watch === true,
      record: this.recording?.path,
    });
  }

  /** Every filter's metrics (current version) and the proxy's counters: what GET /stats shows. */
  stats(): { filters: { name: string; version: number; metrics: MetricValue[] }[]; proxy: ProxyStats } {
    return {
      filters: this.filters.slots.map((s) => ({ name: s.name, version: s.current.version, metrics: s.current.plugin.metrics() })),
      proxy: { requests: this.counts.requests, byStatus: [...this.counts.byStatus.entries()], ...this.filters.counts },
    };
  }

  /** Filter `index` becomes `bytes` (a version the main thread's canary started); see FilterSet.reloadWith. */
  reloadFilter(index: number, bytes: Uint8Array): void {
    this.filters.reloadWith(index, bytes);
  }

  /** Moves everything along after work arrived from outside (a queue's on_queue_ready). */
  settle(): void {
    this.filters.settle();
  }

  /** The listening socket's file descriptor, for other workers to serve too (Linux, macOS). */
  get listeningFd(): number | null {
    const handle = (this.server as unknown as { _handle?: { fd?: number } } | null)?._handle;
    return typeof handle?.fd === "number" && handle.fd >= 0 ? handle.fd : null;
  }

  async stop(): Promise<void> {
    this.filters.stop();
    this.inspectorServer?.close();
    const close = (s: http.Server | null) =>
      new Promise<void>((done) => {
        if (!s?.listening) return done();
        s.close(() => done());
        s.closeAllConnections();
      });
    await Promise.all([close(this.server), close(this.admin)]);
    this.recording?.close();
  }
}

export function listen(server: http.Server, port: number | { fd: number }, host: string, what: "port" | "admin port"): Promise<number> {
  return new Promise((resolveListen, reject) => {
    const flag = what === "port" ? "--port" : "--admin-port";
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === "EADDRINUSE" ? `${what} ${port} on ${host} is in use (pick another with ${flag}, or 0 for any)` : `${what} ${port} on ${host}: ${e.message}`));
    server.once("error", onError);
    const ready = () => {
      server.off("error", onError);
      resolveListen((server.address() as AddressInfo).port);
    };
    if (typeof port === "number") server.listen(port, host, ready);
    else server.listen(port, ready);
  });
}

/** The first lines: where the proxy listens, its chain, upstream, clusters, admin; the exposure warning. */
export function announce(
  log: Logger,
  a: {
    host: string;
    url: string;
    adminUrl: string;
    filters: { name: string; path: string }[];
    upstream: string | null;
    clusters: Record<string, string>;
    limits: Limits;
    watch: boolean;
    workers?: number;
    record?: string;
  },
): void {
  const upstream = a.upstream ?? "built-in echo upstream";
  const clusters = Object.entries(a.clusters);
  log.event(
    "listening",
    {
      url: a.url,
      admin: a.adminUrl || null,
      filters: a.filters,
      upstream,
      limits: a.limits,
      ...(a.workers === undefined ? {} : { workers: a.workers }),
      ...(a.record ? { record: a.record } : {}),
    },
    `listening on ${a.url}\n  filters:  ${a.filters.map((f) => f.name).join(" → ")}\n  upstream: ${upstream}` +
      (clusters.length ? `\n  clusters: ${clusters.map(([k, v]) => `${k}=${v}`).join(", ")}` : "") +
      (a.adminUrl ? `\n  admin:    ${a.adminUrl}/stats\n  inspect:  ${a.adminUrl}/` : "") +
      (a.workers === undefined ? "" : `\n  workers:  ${a.workers} (worker threads, one VM of each filter per worker)`) +
      (a.workers !== undefined && a.workers > 1 ? "\n            spread: a worker holding more than its share of the connections answers a request on one with Connection: close" : "") +
      (a.watch ? "\n  watching the .wasm files for changes" : "") +
      (a.record ? `\n  recording every exchange to ${a.record}` : ""),
  );
  const warning = exposureWarning(a.host, a.adminUrl);
  if (warning) log.warn(warning);
}

export function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** What to say when the proxy is bound beyond this machine, or null on loopback. */
export function exposureWarning(host: string, adminUrl: string): string | null {
  if (isLoopback(host)) return null;
  return (
    `bound to ${host}: not only this machine can reach the proxy` +
    (adminUrl ? `, and the admin port (${adminUrl}/stats: every filter's metrics; ${adminUrl}/: the inspector, with the header changes of every request) is exposed too (--no-admin turns it off)` : "") +
    "; the dev proxy is a development tool, not an edge proxy"
  );
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.") || host.startsWith("::ffff:127.");
}
