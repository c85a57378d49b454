// The request section's tables: one row per filter and implementation, the ratios, the targets, the host
// calls and section sizes.
import type { Options } from "../options.js";
import { fmt, ratio, table, type Target } from "../stats.js";
import type { FilterName, ImplName } from "./subjects.js";

export interface Result {
  filter: FilterName;
  impl: ImplName;
  wasmBytes: number | null;
  nsPerRequest: number | null;
  coldStartMs: number | null;
  memoryPagesAfterWarmup: number | null;
  memoryPagesAfter1M: number | null;
  /** Requests behind memoryPagesAfter1M (1,000,000 unless --requests). */
  requests: number;
  nsPerRequestSpread?: number | null;
  netNsPerRequest?: number | null;
  /** prime-authorizer only: net ns of the same lifecycle with a non-prime token (403 local reply). */
  netNsPerRequestDenied?: number | null;
  /** ns per stream of the module's exports called without the host (direct.ts); not for solo-0.1.8. */
  directNsPerStream?: number | null;
  /** prime-authorizer only: the same for the denied request. */
  directNsPerStreamDenied?: number | null;
  /** add-header only: the same, each stream right after one stream of the empty filter through the host (direct.ts). */
  directAfterHostNsPerStream?: number | null;
  /** Host calls per allowed request, by import name. */
  hostCallsPerRequest?: Record<string, number> | null;
  hostCallsPerDeniedRequest?: Record<string, number> | null;
  sections?: Record<string, number>;
  unavailable?: string;
}

/** Our per-request cost against the raw filter's, at most this ratio (issue 18). */
export const RAW_RATIO_TARGET = 1.1;
const SOLO_RATIO_TARGET = 0.25;
const SIZE_TARGET = 8192;

export function report(results: Result[], o: Options): { text: string; targets: Target[] } {
  const find = (filter: FilterName, impl: ImplName) => results.find((r) => r.filter === filter && r.impl === impl);
  const net = (r: Result | undefined) => r?.netNsPerRequest ?? null;
  const lines: string[] = [];
  const millions = o.requests === 1_000_000 ? "1M" : fmt(o.requests);
  const header = [
    "filter / impl", "wasm bytes", "ns/req", "net ns/req", "denied net", "cold ms", `pages @${fmt(o.warmup)}`,
    `pages @${millions}`, "host calls/req",
  ];
  const rows = [header];
  for (const r of results) {
    if (r.unavailable) {
      rows.push([`${r.filter} / ${r.impl}`, fmt(r.wasmBytes), `n/a (${r.unavailable})`, "", "", "", "", "", ""]);
      continue;
    }
    rows.push([
      `${r.filter} / ${r.impl}`,
      fmt(r.wasmBytes),
      `${fmt(r.nsPerRequest)} ±${fmt(r.nsPerRequestSpread)}`,
      r.filter === "empty" ? "(floor)" : fmt(net(r)),
      r.netNsPerRequestDenied === undefined ? "" : fmt(r.netNsPerRequestDenied),
      fmt(r.coldStartMs, 2),
      fmt(r.memoryPagesAfterWarmup),
      fmt(r.memoryPagesAfter1M),
      r.hostCallsPerRequest ? fmt(r.hostCallsPerRequest.total, 1) : "n/a",
    ]);
  }
  lines.push(table(rows), "");
  lines.push(
    "ns/req: median of the rounds ± half their interquartile range. net ns/req (and denied net): median over the rounds",
    "of ns/req minus the host floor (empty filter) timed just before and after it: what the filter and its SDK cost on top",
    "of the host; the per-request targets are judged on it. raw+on_delete: the raw filter with an empty proxy_on_delete.",
    "",
  );

  const ratioRows = [["ours / other", "wasm bytes", "ns/req", "net ns/req", "denied net", "cold ms"]];
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    for (const impl of ["raw", "raw+on_delete", "solo-0.1.8"] as const) {
      const them = find(filter, impl);
      if (!them) continue;
      ratioRows.push([
        `${filter}: ours / ${impl}`,
        fmt(ratio(us?.wasmBytes, them?.wasmBytes), 2),
        fmt(ratio(us?.nsPerRequest, them?.nsPerRequest), 2),
        fmt(ratio(net(us), net(them)), 2),
        filter === "prime-authorizer" ? fmt(ratio(us?.netNsPerRequestDenied, them?.netNsPerRequestDenied), 2) : "",
        fmt(ratio(us?.coldStartMs, them?.coldStartMs), 2),
      ]);
    }
  }
  lines.push(table(ratioRows), "");

  lines.push(...whereTheTimeGoes(results, find), ...primeWithoutHost(find), "");

  const targets: Target[] = [];
  const addHeader = find("add-header", "proxy-wasm-as");
  targets.push({
    name: `add-header plugin.wasm <= ${fmt(SIZE_TARGET)} bytes`,
    measured: `${fmt(addHeader?.wasmBytes)} bytes`,
    ok: addHeader?.wasmBytes == null ? null : addHeader.wasmBytes <= SIZE_TARGET,
  });
  const against = (name: string, us: number | null | undefined, them: number | null | undefined, limit: number) => {
    const r = ratio(us, them);
    targets.push({ name, measured: `${fmt(r, 2)}x (${fmt(us)} vs ${fmt(them)} ns)`, ok: r === null ? null : r <= limit });
  };
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    const raw = find(filter, "raw");
    against(`${filter}: net per request <= ${RAW_RATIO_TARGET}x raw`, net(us), net(raw), RAW_RATIO_TARGET);
    if (filter === "prime-authorizer") {
      against(`${filter}: denied net per request <= ${RAW_RATIO_TARGET}x raw`, us?.netNsPerRequestDenied, raw?.netNsPerRequestDenied, RAW_RATIO_TARGET);
    }
    against(`${filter}: net per request <= ${SOLO_RATIO_TARGET}x solo-0.1.8`, net(us), net(find(filter, "solo-0.1.8")), SOLO_RATIO_TARGET);
  }
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    targets.push({
      name: `${filter}: no memory growth ${fmt(o.warmup)} -> ${millions} requests`,
      measured: `${fmt(us?.memoryPagesAfterWarmup)} -> ${fmt(us?.memoryPagesAfter1M)} pages`,
      ok: us?.memoryPagesAfterWarmup == null || us.memoryPagesAfter1M == null ? null : us.memoryPagesAfter1M <= us.memoryPagesAfterWarmup,
    });
  }
  const denied = find("prime-authorizer", "proxy-wasm-as")?.hostCallsPerDeniedRequest;
  const logs = denied?.proxy_log ?? 0;
  const levels = denied?.proxy_get_log_level ?? 0;
  targets.push({
    name: "log below level: no proxy_log, level check cached (denied path logs at debug)",
    measured: denied ? `proxy_log ${fmt(logs, 2)}/req, proxy_get_log_level ${fmt(levels, 2)}/req` : "n/a",
    ok: denied ? logs === 0 && levels < 1 : null,
  });
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as")?.coldStartMs;
    const them = find(filter, "solo-0.1.8")?.coldStartMs;
    targets.push({
      name: `${filter}: cold start <= solo-0.1.8`,
      measured: `${fmt(us, 2)} vs ${fmt(them, 2)} ms`,
      ok: us == null || them == null ? null : us <= them,
    });
  }

  lines.push("host calls per request (allowed request; the denied authorizer request after '|'):");
  for (const r of results) {
    if (!r.hostCallsPerRequest) continue;
    const list = (calls: Record<string, number>) =>
      Object.entries(calls)
        .filter(([k]) => k !== "total")
        .map(([k, v]) => `${k} ${fmt(v, v % 1 ? 2 : 0)}`)
        .join(", ") || "none";
    const deniedCalls = r.hostCallsPerDeniedRequest ? ` | ${list(r.hostCallsPerDeniedRequest)}` : "";
    lines.push(`  ${`${r.filter} / ${r.impl}`.padEnd(32)} ${list(r.hostCallsPerRequest)}${deniedCalls}`);
  }
  lines.push("", "sections (bytes):");
  for (const r of results) {
    if (!r.sections) continue;
    const list = Object.entries(r.sections).map(([k, v]) => `${k} ${v}`).join(", ");
    lines.push(`  ${`${r.filter} / ${r.impl}`.padEnd(32)} ${list}`);
  }
  return { text: lines.join("\n"), targets };
}

/**
 * add-header's gap to raw, split: the module's own work per stream (its exports called without the host), and
 * the host's cost of one more callback (proxy_on_delete: raw+on_delete against raw, through the host), which
 * a filter pays that keeps state per stream.
 */
function whereTheTimeGoes(results: Result[], find: (filter: FilterName, impl: ImplName) => Result | undefined): string[] {
  const us = find("add-header", "proxy-wasm-as");
  const raw = find("add-header", "raw");
  const tracked = find("add-header", "raw+on_delete");
  const noop = find("noop", "raw");
  const empty = find("empty", "raw");
  if (us?.directNsPerStream == null || raw?.directNsPerStream == null) return [];
  const perCallback = noop?.netNsPerRequest != null ? noop.netNsPerRequest / 7 : null;
  return [
    "where add-header's time goes (ns per stream):",
    `  exports called without the host: ours ${fmt(us.directNsPerStream, 1)}, raw ${fmt(raw.directNsPerStream, 1)}, ` +
      `raw+on_delete ${fmt(tracked?.directNsPerStream, 1)}, noop (7 callbacks) ${fmt(noop?.directNsPerStream, 1)}, empty ${fmt(empty?.directNsPerStream, 1)}`,
    `  through the host: proxy_on_delete costs ${fmt((tracked?.netNsPerRequest ?? NaN) - (raw.netNsPerRequest ?? NaN))} (raw+on_delete - raw, net); ` +
      `a callback that does nothing costs ${fmt(perCallback)} (noop net / 7)`,
    `  exports called without the host, each stream right after the host's work for one (the empty filter's): ` +
      `ours ${fmt(us.directAfterHostNsPerStream, 1)}, raw ${fmt(raw.directAfterHostNsPerStream, 1)}, raw+on_delete ${fmt(tracked?.directAfterHostNsPerStream, 1)}`,
    // Ours exports the same callbacks as raw when its streams share their root's context (no proxy_on_delete).
    `  ours - raw: ${fmt((us.netNsPerRequest ?? NaN) - (raw.netNsPerRequest ?? NaN))} through the host, ` +
      `${fmt(us.directNsPerStream - raw.directNsPerStream, 1)} without it, ` +
      `${fmt((us.directAfterHostNsPerStream ?? NaN) - (raw.directAfterHostNsPerStream ?? NaN), 1)} without it after the host's work ` +
      "(its code and data then come from colder caches)",
  ];
}

/** The authorizer's exports called without the host: the module's own share of its gap to raw. */
function primeWithoutHost(find: (filter: FilterName, impl: ImplName) => Result | undefined): string[] {
  const us = find("prime-authorizer", "proxy-wasm-as");
  const raw = find("prime-authorizer", "raw");
  if (us?.directNsPerStream == null || raw?.directNsPerStream == null) return [];
  const gap = (a: number | null | undefined, b: number | null | undefined) => fmt((a ?? NaN) - (b ?? NaN));
  return [
    "where the authorizer's time goes (ns per stream; its exports called without the host, request headers served from memory):",
    `  allowed: ours ${fmt(us.directNsPerStream, 1)}, raw ${fmt(raw.directNsPerStream, 1)} (ours - raw: ${gap(us.directNsPerStream, raw.directNsPerStream)} ` +
      `without the host, ${gap(us.netNsPerRequest, raw.netNsPerRequest)} through it)`,
    `  denied:  ours ${fmt(us.directNsPerStreamDenied, 1)}, raw ${fmt(raw.directNsPerStreamDenied, 1)} (ours - raw: ${gap(us.directNsPerStreamDenied, raw.directNsPerStreamDenied)} ` +
      `without the host, ${gap(us.netNsPerRequestDenied, raw.netNsPerRequestDenied)} through it)`,
  ];
}
