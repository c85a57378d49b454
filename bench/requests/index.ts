// Requests: add-header and the prime-token authorizer, each as our SDK builds it, written straight against
// the ABI (bench/raw) and with @solo-io/proxy-runtime 0.1.8, plus the host's own floor (empty and no-op
// filters). Everything runs interleaved, round by round, so all share the same noise.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { Section } from "../section.js";
import { round } from "../stats.js";
import { sectionSizes } from "../wasm-sizes.js";
import { functionReport } from "./functions.js";
import { measureDirect, measureDirectAfterHost } from "./direct.js";
import { countHostCalls, measureColdStarts, measureRequests } from "./measure.js";
import { ALLOWED_REQUEST, checkBehaviour, DENIED_REQUEST, lifecycle, startPlugin } from "./plugins.js";
import { report, type Result } from "./report.js";
import { label, OUT, subjects, type Subject } from "./subjects.js";

/** Builds each subject (unless --no-build), loads it, and checks its behaviour; what fails is marked unavailable. */
function prepare(all: Subject[], build: boolean, progress: (line: string) => void): void {
  mkdirSync(OUT, { recursive: true });
  for (const s of all) {
    if (build) {
      progress(`building ${label(s)}`);
      const error = s.build();
      if (error) {
        s.unavailable = error;
        continue;
      }
    }
    if (!existsSync(s.wasmPath)) {
      s.unavailable = `${s.wasmPath} missing`;
      continue;
    }
    s.bytes = new Uint8Array(readFileSync(s.wasmPath));
    const { plugin, error } = startPlugin(s.bytes, s.options);
    if (error) {
      s.unavailable = `does not start on the host: ${error}`;
      continue;
    }
    const wrong = checkBehaviour(s, plugin);
    if (wrong) s.unavailable = wrong;
  }
}

/** add-header's exports (ours, raw, raw+on_delete) called straight after one stream of the empty filter through the host. */
function measureAfterHost(ready: Subject[]): Map<Subject, number> {
  const floor = ready.find((s) => s.filter === "empty");
  const runs = ready.filter((s) => s.filter === "add-header" && s.impl !== "solo-0.1.8").map((subject) => ({ subject, request: ALLOWED_REQUEST }));
  if (!floor || runs.length === 0) return new Map();
  const { plugin, error } = startPlugin(floor.bytes!, floor.options);
  if (error) throw new Error(`${label(floor)}: ${error}`);
  const times = measureDirectAfterHost(runs, () => lifecycle(plugin, ALLOWED_REQUEST));
  return new Map(runs.map((r) => [r.subject, times.get(r)!]));
}

export const requestsSection: Section = {
  name: "requests",
  run(o, progress) {
    const all = subjects();
    prepare(all, o.build, progress);
    const ready = all.filter((s) => !s.unavailable);
    progress(`cold starts (${o.cold} each)`);
    const cold = measureColdStarts(ready, o.cold);
    progress("host calls per request");
    const calls = new Map(ready.map((s) => [s, countHostCalls(s, ALLOWED_REQUEST)]));
    const deniedCalls = new Map(ready.filter((s) => s.filter === "prime-authorizer").map((s) => [s, countHostCalls(s, DENIED_REQUEST)]));
    progress(`requests (${o.requests.toLocaleString("en-US")} per filter, interleaved)`);
    const requests = measureRequests(ready, o, progress);
    progress("exports called without the host");
    const directRuns = ready
      .filter((s) => s.impl !== "solo-0.1.8")
      .flatMap((s) => (s.filter === "prime-authorizer" ? [ALLOWED_REQUEST, DENIED_REQUEST] : [ALLOWED_REQUEST]).map((request) => ({ subject: s, request })));
    const directTimes = measureDirect(directRuns);
    progress("add-header's exports after the host's work");
    const afterHost = measureAfterHost(ready);
    const direct = (s: Subject, request: [string, string][]) => {
      const run = directRuns.find((r) => r.subject === s && r.request === request);
      return run ? round(directTimes.get(run)!, 1) : undefined;
    };

    const results: Result[] = all.map((s) => {
      const base: Result = {
        filter: s.filter,
        impl: s.impl,
        wasmBytes: s.bytes?.length ?? (existsSync(s.wasmPath) ? readFileSync(s.wasmPath).length : null),
        nsPerRequest: null,
        coldStartMs: null,
        memoryPagesAfterWarmup: null,
        memoryPagesAfter1M: null,
        requests: o.requests,
      };
      if (s.unavailable) return { ...base, unavailable: s.unavailable };
      const r = requests.get(s)!;
      return {
        ...base,
        nsPerRequest: round(r.nsPerRequest ?? null),
        nsPerRequestSpread: round(r.nsPerRequestSpread ?? null),
        ...(s.filter !== "empty" && r.netNsPerRequest !== undefined ? { netNsPerRequest: round(r.netNsPerRequest) } : {}),
        coldStartMs: round(cold.get(s) ?? null, 3),
        memoryPagesAfterWarmup: r.memoryPagesAfterWarmup ?? null,
        memoryPagesAfter1M: r.memoryPagesAfter1M ?? null,
        requests: r.requests ?? o.requests,
        ...(direct(s, ALLOWED_REQUEST) !== undefined ? { directNsPerStream: direct(s, ALLOWED_REQUEST) } : {}),
        ...(afterHost.has(s) ? { directAfterHostNsPerStream: round(afterHost.get(s)!, 1) } : {}),
        ...(s.filter === "prime-authorizer" && direct(s, DENIED_REQUEST) !== undefined ? { directNsPerStreamDenied: direct(s, DENIED_REQUEST) } : {}),
        ...(r.netNsPerRequestDenied !== undefined ? { netNsPerRequestDenied: round(r.netNsPerRequestDenied) } : {}),
        hostCallsPerRequest: calls.get(s) ?? null,
        ...(deniedCalls.has(s) ? { hostCallsPerDeniedRequest: deniedCalls.get(s) } : {}),
        sections: Object.fromEntries(sectionSizes(s.bytes!).map((x) => [x.name, x.bytes])),
      };
    });
    const { text, targets } = report(results, o);
    return { text: o.functions ? `${text}\n\n${functionReport()}` : text, json: results, targets };
  },
};
