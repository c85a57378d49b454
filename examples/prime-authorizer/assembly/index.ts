// prime-token authorizer: a request continues only when its token header holds a prime number.
import {
  Configuration, FilterHeadersStatus, HttpContext, isJsonLike, isValidHeaderName, log, parseConfiguration,
  refuseConfiguration, registerRootContext, RootContext,
} from "proxy-wasm-as";
import { isPrime } from "./prime";
export * from "proxy-wasm-as/assembly/exports";

const FORBIDDEN_BODY = "Access forbidden.";

/** `{"header": "x-token"}`, optional: the SDK's reader refuses other fields and other types. */
@configuration
class Settings {
  header: string = "token";
}

class AuthorizerRoot extends RootContext {
  headerName: string = "token";

  /** A JSON object is read into `Settings`; any other text is the header name; empty means `token`. */
  onConfigure(configuration: Configuration): bool {
    const text = configuration.toString().trim();
    const json = isJsonLike(text);
    const read = parseConfiguration<Settings>(json ? text : "");
    const settings = read.value;
    if (!settings) return refuseConfiguration(read.error);
    const name = json || text.length == 0 ? settings.header : text;
    // A pseudo-header, or a name no HTTP client can send, would never carry a token.
    if (!isValidHeaderName(name)) return refuseConfiguration("header: expected a regular header name");
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
    // Every value counts: a second token header must not smuggle a bad token past a good one. A missing,
    // repeated or malformed token reads as 0, which is not prime.
    const token = this.requestHeaders.getSingleU64(this.plugin.headerName, 0);
    if (isPrime(token)) return FilterHeadersStatus.Continue;
    log.debug("prime-authorizer: request denied");
    this.sendLocalResponse(403, FORBIDDEN_BODY);
    return FilterHeadersStatus.StopIteration;
  }
}

registerRootContext((contextId: u32): RootContext => new AuthorizerRoot(contextId));
