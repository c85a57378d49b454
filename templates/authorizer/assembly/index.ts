// {{name}}: lets a request through only when its API key header holds one of the configured keys;
// answers 401 itself otherwise, so the upstream never sees the request.
import { Configuration, FilterHeadersStatus, HttpContext, JsonKind, log, parseJson, registerRootContext, RootContext } from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports"; // the Proxy-Wasm ABI exports Envoy calls

class AuthorizerRoot extends RootContext {
  header: string = "x-api-key";
  keys: Set<string> = new Set();

  /** `{"header": "x-api-key", "keys": ["k1", "k2"]}`: `keys` is required, `header` optional. */
  onConfigure(configuration: Configuration): bool {
    const parsed = parseJson(configuration.toString());
    if (!parsed.ok) return refuse(parsed.error);
    const json = parsed.value;
    if (json.kind != JsonKind.Object) return refuse("the configuration must be a JSON object");
    const header = json.get("header");
    if (header) {
      if (header.kind != JsonKind.String || header.asString().length == 0) return refuse("'header' must be a non-empty string");
      this.header = header.asString();
    }
    const keys = json.get("keys");
    if (!keys || keys.kind != JsonKind.Array || keys.length == 0) return refuse("'keys' must be a non-empty array of strings");
    for (let i = 0; i < keys.length; i++) {
      const key = keys.at(i)!;
      if (key.kind != JsonKind.String || key.asString().length == 0) return refuse("every key must be a non-empty string");
      this.keys.add(key.asString());
    }
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
    // Every value counts: a second header must not smuggle a bad key past a good one.
    const values = this.requestHeaders.values(this.plugin.header);
    if (values.length == 1 && this.plugin.keys.has(values[0])) {
      this.requestHeaders.remove(this.plugin.header); // the upstream does not need the key
      return FilterHeadersStatus.Continue;
    }
    log.info("{{name}}: request denied");
    this.sendLocalResponse(401, "Unauthorized.\n");
    return FilterHeadersStatus.StopIteration;
  }
}

function refuse(reason: string): bool {
  log.error("{{name}}: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new AuthorizerRoot(contextId));
