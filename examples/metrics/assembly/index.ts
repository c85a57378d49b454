// metrics: counts requests by method and response class, tracks requests in flight, and records
// request durations, with the tags in the metric names as Envoy's stats expect.
import {
  Counter, FilterHeadersStatus, Gauge, getCurrentTimeNanoseconds, Histogram, HttpContext, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"];

class MetricsRoot extends RootContext {
  requestsByMethod: Map<string, Counter> = new Map();
  responsesByClass: Map<string, Counter> = new Map();
  otherRequests: Counter = new Counter("requests_total.method=other");
  otherResponses: Counter = new Counter("responses_total.class=other");
  inFlight: Gauge = new Gauge("requests_in_flight");
  durationMs: Histogram = new Histogram("request_duration_ms");

  constructor(id: u32) {
    super(id);
    // Metrics are defined once per plugin, up front, so requests only update them.
    for (let i = 0; i < METHODS.length; i++) this.requestsByMethod.set(METHODS[i], new Counter("requests_total.method=" + METHODS[i]));
    for (let i = 0; i < CLASSES.length; i++) this.responsesByClass.set(CLASSES[i], new Counter("responses_total.class=" + CLASSES[i]));
  }

  createHttpContext(contextId: u32): HttpContext {
    return new MetricsStream(contextId, this);
  }
}

class MetricsStream extends HttpContext {
  private started: bool = false;
  private startedAt: u64 = 0;

  constructor(id: u32, readonly plugin: MetricsRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.started = true;
    this.startedAt = getCurrentTimeNanoseconds();
    this.plugin.inFlight.add(1);
    const method = this.requestHeaders.get(":method");
    const known = method != null && this.plugin.requestsByMethod.has(method);
    (known ? this.plugin.requestsByMethod.get(method!) : this.plugin.otherRequests).increment();
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const status = this.responseHeaders.get(":status");
    const statusClass = status != null && status.length == 3 ? status.charAt(0) + "xx" : "";
    const known = this.plugin.responsesByClass.has(statusClass);
    (known ? this.plugin.responsesByClass.get(statusClass) : this.plugin.otherResponses).increment();
    return FilterHeadersStatus.Continue;
  }

  onLog(): void {
    if (!this.started) return; // a stream that never reached the filter's request headers
    this.plugin.inFlight.add(-1);
    const now = getCurrentTimeNanoseconds();
    this.plugin.durationMs.record(now > this.startedAt ? (now - this.startedAt) / 1_000_000 : 0);
  }
}

registerRootContext((contextId: u32): RootContext => new MetricsRoot(contextId));
