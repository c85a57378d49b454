// rate-limit: a token bucket per client, kept in shared data so every VM with the same vm_id
// (every Envoy worker thread) draws from the same bucket. Updates use compare-and-swap retries.
import {
  Configuration, FilterHeadersStatus, getCurrentTimeNanoseconds, getPropertyString, Header, HttpContext, JsonKind, JsonValue,
  log, parseJson, registerRootContext, RootContext, SharedData, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const NANOS_PER_SECOND: f64 = 1e9;
const BUCKET_BYTES = 16; // f64 tokens, then u64 time of the last update in nanoseconds
/** One token a day: below that a rate is effectively zero (every request 429, retry-after beyond any use). */
const MIN_RATE: f64 = 1.0 / 86400;

class RateLimitRoot extends RootContext {
  requestsPerSecond: f64 = 0;
  burst: f64 = 0;
  keyHeader: string = "";
  maxKeys: u32 = 10000;

  /**
   * `{"requestsPerSecond": 10, "burst": 20, "keyHeader": "x-api-key", "maxKeys": 10000}`; burst defaults to the
   * rate, the key to the source address.
   */
  onConfigure(configuration: Configuration): bool {
    const parsed = parseJson(configuration.toString());
    if (!parsed.ok) return refuse(parsed.error);
    const json = parsed.value;
    if (json.kind != JsonKind.Object) return refuse("the configuration must be a JSON object");
    const rate = json.get("requestsPerSecond");
    if (!rate || !isPositive(rate) || rate.asNumber() < MIN_RATE) return refuse("'requestsPerSecond' must be a number of at least 0.0000116 (one a day)");
    this.requestsPerSecond = rate.asNumber();
    this.burst = this.requestsPerSecond;
    const burst = json.get("burst");
    if (burst) {
      if (!isPositive(burst) || burst.asNumber() < 1) return refuse("'burst' must be a number of at least 1");
      this.burst = burst.asNumber();
    }
    const keyHeader = json.get("keyHeader");
    if (keyHeader) {
      if (keyHeader.kind != JsonKind.String || keyHeader.asString().length == 0) return refuse("'keyHeader' must be a non-empty string");
      this.keyHeader = keyHeader.asString();
    }
    const maxKeys = json.get("maxKeys");
    if (maxKeys) {
      if (!maxKeys.isU64() || maxKeys.asU64() < 1 || maxKeys.asU64() > 1000000) return refuse("'maxKeys' must be an integer from 1 to 1000000");
      this.maxKeys = <u32>maxKeys.asU64();
    }
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
    const request = new TokenRequest(getCurrentTimeNanoseconds(), this.plugin.requestsPerSecond, this.plugin.burst);
    const bucket = hashKey(this.clientKey()) % this.plugin.maxKeys;
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
    if (this.plugin.keyHeader.length > 0) {
      const key = this.requestHeaders.get(this.plugin.keyHeader);
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

function isPositive(value: JsonValue): bool {
  return value.kind == JsonKind.Number && value.asNumber() > 0 && isFinite(value.asNumber());
}

function refuse(reason: string): bool {
  log.error("rate-limit: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new RateLimitRoot(contextId));
