// token-cache: a singleton root context fetches a token on every tick and keeps it in shared data;
// request contexts (in any VM with the same vm_id) put it on their requests, without a callout each.
import {
  Configuration, FilterHeadersStatus, Header, HttpCallResponse, HttpContext, log, readConfiguration, refuseConfiguration,
  registerNamedRootContext, RootContext, SharedData, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const TOKEN_KEY = "token-cache/token";

/** Where the token comes from: `{"cluster": "tokens", "path": "/token", "refreshMs": 60000}`, `cluster` required. */
@configuration
class TokenSource {
  @required @nonEmpty cluster: string = "";
  path: string = "/token";
  @range(1, 86400000) refreshMs: u32 = 60000;
}

/** The singleton (root id `token-fetcher`): fetches at start and then every refreshMs. */
class TokenFetcher extends RootContext {
  source: TokenSource = new TokenSource();

  onConfigure(configuration: Configuration): bool {
    const source = readConfiguration<TokenSource>(configuration);
    if (!source) return false; // the problem is logged
    if (!source.path.startsWith("/")) return refuseConfiguration("path: expected a string starting with '/'");
    this.source = source;
    this.setTickPeriod(source.refreshMs);
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

registerNamedRootContext("token-fetcher", (contextId: u32): RootContext => new TokenFetcher(contextId));
registerNamedRootContext("token-cache", (contextId: u32): RootContext => new TokenUser(contextId));
