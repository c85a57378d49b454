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

export function createAdminServer(source: AdminSource, inspector: InspectorServer | null = null): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "GET only\n");
    if (inspector?.handle(url.pathname, req, res)) return;
    switch (url.pathname) {
      case "/stats":
        if (url.searchParams.get("format") === "json") {
          const json = JSON.stringify({ proxy: source.proxyStats(), filters: source.filters() }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2);
          return send(200, "application/json", `${json}\n`);
        }
        return send(200, "text/plain; version=0.0.4", prometheusText(source.filters(), source.proxyStats()));
      case "/stats/prometheus":
        return send(200, "text/plain; version=0.0.4", prometheusText(source.filters(), source.proxyStats()));
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
