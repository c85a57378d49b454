// {{name}}: adds a configured header to every response.
import { Configuration, FilterHeadersStatus, HttpContext, JsonKind, log, parseJson, registerRootContext, RootContext } from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports"; // the Proxy-Wasm ABI exports Envoy calls

class AddHeaderRoot extends RootContext {
  name: string = "hello";
  value: string = "world";

  /** `{"name": "hello", "value": "world"}`, both optional; an empty configuration keeps the defaults. */
  onConfigure(configuration: Configuration): bool {
    if (configuration.isEmpty) return true;
    const parsed = parseJson(configuration.toString());
    if (!parsed.ok) return refuse(parsed.error);
    const json = parsed.value;
    if (json.kind != JsonKind.Object) return refuse("the configuration must be a JSON object");
    const name = json.get("name");
    if (name) {
      if (name.kind != JsonKind.String || name.asString().length == 0) return refuse("'name' must be a non-empty string");
      this.name = name.asString();
    }
    const value = json.get("value");
    if (value) {
      if (value.kind != JsonKind.String) return refuse("'value' must be a string");
      this.value = value.asString();
    }
    return true; // false makes Envoy reject the configuration
  }

  createHttpContext(contextId: u32): HttpContext {
    return new AddHeader(contextId, this);
  }
}

class AddHeader extends HttpContext {
  constructor(id: u32, readonly plugin: AddHeaderRoot) {
    super(id, plugin);
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add(this.plugin.name, this.plugin.value);
    return FilterHeadersStatus.Continue;
  }
}

function refuse(reason: string): bool {
  log.error("{{name}}: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
