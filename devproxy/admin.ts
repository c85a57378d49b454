// The admin server (Envoy's admin port): GET /stats with every filter's metrics and the proxy's
// own counters, in Prometheus text or JSON; /ready; the inspector page at / (inspector/server.ts).

import http from "node:http";
import type { MetricValue } from "../host/index.js";
import type { InspectorServer } from "./inspector/server.js";
import { prometheusText, type ProxyStats } from "./stats.js";

export interface AdminSource {
  filters(): { name: string; version: number; metrics: MetricValue[] }[];
  proxyStats(): ProxyStats;
}

/** The same, gathered asynchronously (from the dev proxy's worker threads). */
export type AsyncAdminSource = () => Promise<{ filters: ReturnType<AdminSource["filters"]>; proxy: ProxyStats }>;

export function createAdminServer(given: AdminSource | AsyncAdminSource, inspector: InspectorServer | null = null): http.Server {
  const gather = typeof given === "function" ? given : async () => ({ filters: given.filters(), proxy: given.proxyStats() });
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "GET only\n");
    if (inspector?.handle(url.pathname, req, res)) return;
    switch (url.pathname) {
      case "/stats": {
        const { filters, proxy } = await gather();
        if (url.searchParams.get("format") === "json") {
          const json = JSON.stringify({ proxy, filters }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2);
          return send(200, "application/json", `${json}\n`);
        }
        return send(200, "text/plain; version=0.0.4", prometheusText(filters, proxy));
      }
      case "/stats/prometheus": {
        const { filters, proxy } = await gather();
        return send(200, "text/plain; version=0.0.4", prometheusText(filters, proxy));
      }
      case "/ready":
        return send(200, "text/plain", "LIVE\n");
      case "/":
      case "/help":
        return send(200, "text/plain", "proxy-wasm-as dev proxy admin\n  GET /                 the inspector page\n  GET /stats            Prometheus text\n  GET /stats?format=json\n  GET /ready\n");
      default:
        return send(404, "text/plain", "not found\n");
    }
  });
}
