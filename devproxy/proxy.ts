// The dev proxy: a local HTTP/1.1 proxy that serves real traffic through a chain of Proxy-Wasm
// filters on the Node host, then forwards to an upstream URL or to the built-in echo upstream.
// Callouts (http_call) go to real URLs mapped per cluster, ticks run on real timers, shared data
// and queues are shared by filters with the same vm id (one process = one Envoy), metrics are on
// the admin port's GET /stats. With `watch`, a filter is reloaded when its .wasm changes; a new
// version that does not start is refused and the old one keeps serving.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";
import type { LogLevelName } from "../host/abi/enums.js";
import { createAdminServer } from "./admin.js";
import { FilterSet, type FilterSpec } from "./filters.js";
import { Logger } from "./log.js";
import { serveRequest, type RequestContext } from "./request.js";

export { filterName, type FilterSpec } from "./filters.js";

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

export class DevProxy {
  private readonly log: Logger;
  private readonly filters: FilterSet;
  private server: http.Server | null = null;
  private admin: http.Server | null = null;
  private readonly counts = { requests: 0, byStatus: new Map<number, number>() };
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
    this.filters = new FilterSet(
      {
        filters: options.filters,
        clusters: options.clusters ?? {},
        failOpen: options.failOpen === true,
        logLevel: options.logLevel ?? "info",
        bufferLimitBytes: 1024 * 1024,
        verbose: options.verbose === true,
      },
      this.log,
    );
  }

  /** Loads and starts every filter (throws with the reason if one does not start), then listens. */
  async start(): Promise<{ url: string; adminUrl: string }> {
    this.filters.load();
    const host = this.options.host ?? "127.0.0.1";
    const ctx: RequestContext = {
      filters: this.filters,
      log: this.log,
      upstream: this.options.upstream ?? null,
      authority: "",
      counted: (status) => {
        this.counts.requests++;
        if (status !== null) this.counts.byStatus.set(status, (this.counts.byStatus.get(status) ?? 0) + 1);
      },
    };
    this.server = http.createServer((req, res) => serveRequest(ctx, req, res));
    this.server.on("clientError", (_err, socket) => socket.destroy());
    const port = await listen(this.server, this.options.port ?? 10000, host);
    this.url = `http://${hostForUrl(host)}:${port}`;
    ctx.authority = this.url.replace(/^http:\/\//, "");
    if (this.options.adminPort !== null) {
      this.admin = createAdminServer({
        filters: () => this.filters.slots.map((s) => ({ name: s.name, version: s.current.version, metrics: s.current.plugin.metrics() })),
        proxyStats: () => ({ requests: this.counts.requests, byStatus: [...this.counts.byStatus.entries()], ...this.filters.counts }),
      });
      const adminPort = await listen(this.admin, this.options.adminPort ?? 9901, host);
      this.adminUrl = `http://${hostForUrl(host)}:${adminPort}`;
    }
    if (this.options.watch) this.filters.watch();
    const chain = this.filters.slots.map((s) => s.name).join(" → ");
    const upstream = this.options.upstream ?? "built-in echo upstream";
    const clusters = Object.entries(this.options.clusters ?? {});
    this.log.event(
      "listening",
      { url: this.url, admin: this.adminUrl || null, filters: this.filters.slots.map((s) => ({ name: s.name, path: s.path })), upstream },
      `listening on ${this.url}\n  filters:  ${chain}\n  upstream: ${upstream}` +
        (clusters.length ? `\n  clusters: ${clusters.map(([k, v]) => `${k}=${v}`).join(", ")}` : "") +
        (this.adminUrl ? `\n  admin:    ${this.adminUrl}/stats` : "") +
        (this.options.watch ? "\n  watching the .wasm files for changes" : ""),
    );
    if (!isLoopback(host)) this.log.warn(`bound to ${host}: not only this machine can reach the proxy`);
    this.filters.settle();
    return { url: this.url, adminUrl: this.adminUrl };
  }

  async stop(): Promise<void> {
    this.filters.stop();
    const close = (s: http.Server | null) =>
      new Promise<void>((done) => {
        if (!s) return done();
        s.close(() => done());
        s.closeAllConnections();
      });
    await Promise.all([close(this.server), close(this.admin)]);
  }
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
