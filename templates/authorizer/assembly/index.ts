// {{name}}: lets a request through only when its API key header holds one of the configured keys;
// answers 401 itself otherwise, so the upstream never sees the request.
import {
  Configuration, FilterHeadersStatus, HttpContext, log, readConfiguration, refuseConfiguration, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports"; // the Proxy-Wasm ABI exports Envoy calls

/** `{"header": "x-api-key", "keys": ["k1", "k2"]}`: `keys` is required, `header` optional. */
@configuration
class Settings {
  @nonEmpty header: string = "x-api-key";
  @required @nonEmpty keys: string[] = [];
}

class AuthorizerRoot extends RootContext {
  header: string = "x-api-key";
  keys: Set<string> = new Set();

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    this.header = settings.header;
    for (let i = 0; i < settings.keys.length; i++) {
      if (settings.keys[i].length == 0) return refuseConfiguration("keys[" + i.toString() + "]: expected a non-empty string");
      this.keys.add(settings.keys[i]);
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

registerRootContext((contextId: u32): RootContext => new AuthorizerRoot(contextId));
