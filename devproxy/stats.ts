// GET /stats on the admin port: every filter's metrics in Prometheus text format, labelled with
// the filter's name, plus the dev proxy's own counters.

import type { MetricValue } from "../host/index.js";

interface FilterMetrics {
  name: string;
  version: number;
  metrics: MetricValue[];
}

export interface ProxyStats {
  requests: number;
  byStatus: [number, number][];
  reloads: number;
  reloadsRefused: number;
  callouts: number;
  calloutFailures: number;
}

/** Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Envoy turns '.' into '_' the same way. */
export function metricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** "requests_total.method=GET" → requests_total{method="GET"}: Envoy-style tags become labels. */
export function splitTags(raw: string): { name: string; labels: string[] } {
  const parts: string[] = [];
  const labels: string[] = [];
  for (const segment of raw.split(".")) {
    const eq = segment.indexOf("=");
    if (eq > 0) labels.push(`${metricName(segment.slice(0, eq))}="${label(segment.slice(eq + 1))}"`);
    else parts.push(segment);
  }
  return { name: metricName(parts.join("_") || raw), labels };
}

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function prometheusText(filters: FilterMetrics[], proxy: ProxyStats): string {
  const families = new Map<string, { type: string; lines: string[] }>();
  const add = (name: string, type: string, line: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type, lines: [] }));
    f.lines.push(line);
  };
  for (const filter of filters) {
    const fl = `filter="${label(filter.name)}"`;
    for (const m of filter.metrics) {
      const { name, labels } = splitTags(m.name);
      const l = [...labels, fl].join(",");
      if (m.type === "histogram") {
        const sum = m.samples.reduce((a, b) => a + b, 0n);
        add(name, "summary", `${name}_count{${l}} ${m.samples.length}`);
        add(name, "summary", `${name}_sum{${l}} ${sum}`);
      } else {
        add(name, m.type, `${name}{${l}} ${m.value}`);
      }
    }
    add("proxy_wasm_as_filter_version", "gauge", `proxy_wasm_as_filter_version{${fl}} ${filter.version}`);
  }
  add("proxy_wasm_as_requests_total", "counter", `proxy_wasm_as_requests_total ${proxy.requests}`);
  for (const [status, count] of proxy.byStatus.sort((a, b) => a[0] - b[0])) {
    add("proxy_wasm_as_responses_total", "counter", `proxy_wasm_as_responses_total{code="${status}"} ${count}`);
  }
  add("proxy_wasm_as_reloads_total", "counter", `proxy_wasm_as_reloads_total ${proxy.reloads}`);
  add("proxy_wasm_as_reloads_refused_total", "counter", `proxy_wasm_as_reloads_refused_total ${proxy.reloadsRefused}`);
  add("proxy_wasm_as_callouts_total", "counter", `proxy_wasm_as_callouts_total ${proxy.callouts}`);
  add("proxy_wasm_as_callout_failures_total", "counter", `proxy_wasm_as_callout_failures_total ${proxy.calloutFailures}`);
  let out = "";
  for (const [name, f] of families) out += `# TYPE ${name} ${f.type}\n${f.lines.join("\n")}\n`;
  return out;
}
