// token-cache: a singleton root context fetches a token on every tick and keeps it in shared data;
// request contexts (in any VM with the same vm_id) put it on their requests, without a callout each.
import {
  Configuration, FilterHeadersStatus, Header, HttpCallResponse, HttpContext, JsonKind, log, parseJson,
  registerNamedRootContext, RootContext, SharedData, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const TOKEN_KEY = "token-cache/token";

/** Where the token comes from: `{"cluster": "tokens", "path": "/token", "refreshMs": 60000}`. */
class TokenSource {
  cluster: string = "";
  path: string = "/token";
  refreshMs: u32 = 60000;
}

function readSource(configuration: Configuration, source: TokenSource, owner: string): bool {
  const parsed = parseJson(configuration.toString());
  if (!parsed.ok) return refuse(owner, parsed.error);
  const json = parsed.value;
  if (json.kind != JsonKind.Object) return refuse(owner, "the configuration must be a JSON object");
  const cluster = json.get("cluster");
  if (!cluster || cluster.kind != JsonKind.String || cluster.asString().length == 0) return refuse(owner, "'cluster' must be a non-empty string");
  source.cluster = cluster.asString();
  const path = json.get("path");
  if (path) {
    if (path.kind != JsonKind.String || !path.asString().startsWith("/")) return refuse(owner, "'path' must be a string starting with '/'");
    source.path = path.asString();
  }
  const refresh = json.get("refreshMs");
  if (refresh) {
    if (!refresh.isU64() || refresh.asU64() == 0 || refresh.asU64() > 86400000) return refuse(owner, "'refreshMs' must be an integer from 1 to 86400000");
    source.refreshMs = <u32>refresh.asU64();
  }
  return true;
}

/** The singleton (root id `token-fetcher`): fetches at start and then every refreshMs. */
class TokenFetcher extends RootContext {
  source: TokenSource = new TokenSource();

  onConfigure(configuration: Configuration): bool {
    if (!readSource(configuration, this.source, "token-fetcher")) return false;
    this.setTickPeriod(this.source.refreshMs);
    return true;
  }

  onTick(): void {
    const request = [new Header(":method", "GET"), new Header(":path", this.source.path), new Header(":authority", this.source.cluster)];
    const result = this.httpCall<TokenFetcher>(this.source.cluster, request, null, [], 5000,
      (fetcher: TokenFetcher, response: HttpCallResponse): void => fetcher.onToken(response));
    if (result != WasmResult.Ok) log.warn("token-cache: could not call cluster '" + this.source.cluster + "'");
  }

  onToken(response: HttpCallResponse): void {
    if (response.failed || response.status != 200) {
      log.warn("token-cache: token refresh failed; keeping the previous token");
      return;
    }
    const token = response.bodyString().trim();
    if (token.length == 0 || !isVisibleAscii(token)) {
      log.warn("token-cache: the token service answered an unusable token");
      return;
    }
    SharedData.setString(TOKEN_KEY, token);
    log.info("token-cache: token refreshed");
  }
}

/** The HTTP filter (root id `token-cache`): adds `authorization: Bearer <token>`, or answers 503 before the first token. */
class TokenUser extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new TokenStream(contextId, this);
  }
}

class TokenStream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const token = SharedData.getString(TOKEN_KEY);
    if (!token) {
      this.sendLocalResponse(503, "No token yet.");
      return FilterHeadersStatus.StopIteration;
    }
    this.requestHeaders.replace("authorization", "Bearer " + token);
    return FilterHeadersStatus.Continue;
  }
}

/** A token goes into a header: printable ASCII only, so a hostile token service cannot inject headers. */
function isVisibleAscii(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function refuse(owner: string, reason: string): bool {
  log.error(owner + ": invalid configuration: " + reason);
  return false;
}

registerNamedRootContext("token-fetcher", (contextId: u32): RootContext => new TokenFetcher(contextId));
registerNamedRootContext("token-cache", (contextId: u32): RootContext => new TokenUser(contextId));
