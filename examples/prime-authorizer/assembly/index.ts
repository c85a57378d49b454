// prime-token authorizer: a request continues only when its token header holds a prime number.
import {
  Configuration, FilterHeadersStatus, HttpContext, JsonKind, log, parseJson, registerRootContext, RootContext,
} from "proxy-wasm-as";
import { isPrime } from "./prime";
import { parseDecimalU64 } from "./token";
export * from "proxy-wasm-as/assembly/exports";

const FORBIDDEN_BODY = "Access forbidden.";

class AuthorizerRoot extends RootContext {
  headerName: string = "token";

  /** `{"header": "x-token"}` (optional); plain text is the header name; empty means `token`. */
  onConfigure(configuration: Configuration): bool {
    const text = configuration.toString().trim();
    if (text.length == 0) return true;
    if (!text.startsWith("{")) return this.useHeader(text);
    const parsed = parseJson(text);
    if (!parsed.ok) return refuse(parsed.error);
    const header = parsed.value.get("header");
    if (!header) return true;
    if (header.kind != JsonKind.String) return refuse("'header' must be a string");
    return this.useHeader(header.asString());
  }

  private useHeader(name: string): bool {
    if (name.length == 0 || name.startsWith(":")) return refuse("the header name must be a non-empty regular header");
    this.headerName = name;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new Authorizer(contextId, this);
  }
}

class Authorizer extends HttpContext {
  constructor(id: u32, readonly plugin: AuthorizerRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    // Every value counts: a second token header must not smuggle a bad token past a good one.
    const tokens = this.requestHeaders.values(this.plugin.headerName);
    if (tokens.length == 1) {
      const token = parseDecimalU64(tokens[0]);
      if (token.ok && isPrime(token.value)) return FilterHeadersStatus.Continue;
    }
    log.debug("prime-authorizer: request denied");
    this.sendLocalResponse(403, FORBIDDEN_BODY);
    return FilterHeadersStatus.StopIteration;
  }
}

function refuse(reason: string): bool {
  log.error("prime-authorizer: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new AuthorizerRoot(contextId));
