// rate-limit: a token bucket per client, kept in shared data so every VM with the same vm_id
// (every Envoy worker thread) draws from the same bucket. Updates use compare-and-swap retries.
import {
  Configuration, FilterHeadersStatus, getCurrentTimeNanoseconds, getPropertyString, Header, HttpContext, log, readConfiguration,
  registerRootContext, RootContext, SharedData, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const NANOS_PER_SECOND: f64 = 1e9;
const BUCKET_BYTES = 16; // f64 tokens, then u64 time of the last update in nanoseconds

/**
 * `{"requestsPerSecond": 10, "burst": 20, "keyHeader": "x-api-key", "maxKeys": 10000}`; burst defaults to the
 * rate (at least 1), the key to the source address.
 */
@configuration
class Settings {
  /** At least one a day: below that a rate is effectively zero (every request 429, retry-after beyond any use). */
  @required @range(0.0000116, f64.MAX_VALUE) requestsPerSecond: f64 = 0;
  /** 0 until configured: then the rate, and never under one token. */
  @range(1, f64.MAX_VALUE) burst: f64 = 0;
  @nonEmpty keyHeader: string = "";
  @range(1, 1000000) maxKeys: u32 = 10000;
}

class RateLimitRoot extends RootContext {
  settings: Settings = new Settings();

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    if (settings.burst == 0) settings.burst = max(1, settings.requestsPerSecond);
    this.settings = settings;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new RateLimit(contextId, this);
  }
}

/** One request's attempt to take a token, handed to the CAS loop (AssemblyScript closures cannot capture). */
class TokenRequest {
  allowed: bool = false;
  retryAfterSeconds: u32 = 0;
  constructor(readonly now: u64, readonly rate: f64, readonly burst: f64) {}
}

function takeToken(current: ArrayBuffer | null, request: TokenRequest): ArrayBuffer | null {
  let tokens = request.burst;
  if (current && current.byteLength == BUCKET_BYTES) {
    const stored = load<f64>(changetype<usize>(current));
    const last = load<u64>(changetype<usize>(current), 8);
    // Clocks of different workers may disagree by a little: never refill backwards.
    const elapsed = request.now > last ? <f64>(request.now - last) / NANOS_PER_SECOND : 0;
    tokens = min(request.burst, stored + elapsed * request.rate);
  }
  if (tokens < 1) {
    request.allowed = false;
    request.retryAfterSeconds = max<u32>(1, <u32>Math.ceil((1 - tokens) / request.rate));
    return null; // nothing to write: the refill is computed again from the stored time
  }
  request.allowed = true;
  const bucket = new ArrayBuffer(BUCKET_BYTES);
  store<f64>(changetype<usize>(bucket), tokens - 1);
  store<u64>(changetype<usize>(bucket), request.now, 8);
  return bucket;
}

class RateLimit extends HttpContext {
  constructor(id: u32, readonly plugin: RateLimitRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const request = new TokenRequest(getCurrentTimeNanoseconds(), this.plugin.settings.requestsPerSecond, this.plugin.settings.burst);
    const bucket = hashKey(this.clientKey()) % this.plugin.settings.maxKeys;
    const result = SharedData.update<TokenRequest>("rate-limit/" + bucket.toString(), request, takeToken);
    if (result != WasmResult.Ok) {
      // Losing every CAS race means heavy contention: let the request through rather than fail traffic.
      log.warn("rate-limit: could not update the bucket");
      return FilterHeadersStatus.Continue;
    }
    if (request.allowed) return FilterHeadersStatus.Continue;
    this.sendLocalResponse(429, "Too many requests.", [new Header("retry-after", request.retryAfterSeconds.toString())]);
    return FilterHeadersStatus.StopIteration;
  }

  private clientKey(): string {
    if (this.plugin.settings.keyHeader.length > 0) {
      const key = this.requestHeaders.get(this.plugin.settings.keyHeader);
      if (key && key.length > 0) return "header:" + key;
    }
    const address = getPropertyString(["source", "address"]);
    return address ? "address:" + stripPort(address) : "unknown";
  }
}

/** "10.0.0.1:5000" → "10.0.0.1", "[::1]:5000" → "[::1]": one bucket per client, not per connection. */
function stripPort(address: string): string {
  const colon = address.lastIndexOf(":");
  if (colon <= 0 || address.indexOf("]") > colon) return address;
  if (!address.startsWith("[") && address.indexOf(":") != colon) return address; // a bare IPv6 address
  return address.substring(0, colon);
}

/**
 * FNV-1a over the key's UTF-16 code units: the same bucket in every VM. Keys share `maxKeys` buckets, so shared data
 * (which Envoy never frees) holds at most that many, whatever the number of clients.
 */
function hashKey(key: string): u32 {
  let hash: u32 = 2166136261;
  for (let i = 0, n = key.length; i < n; ++i) hash = (hash ^ <u32>key.charCodeAt(i)) * 16777619;
  return hash;
}

registerRootContext((contextId: u32): RootContext => new RateLimitRoot(contextId));
