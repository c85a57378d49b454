// The init scaffold's filter with a bug: a value without a comma has no parts[1], so std's array access aborts
// ("Index out of range"). Release inlines onResponseHeaders and the access into the SDK's dispatcher; "trap:" marks the line.
import { Configuration, FilterHeadersStatus, HttpContext, readConfiguration, registerRootContext, RootContext } from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports"; // the Proxy-Wasm ABI exports Envoy calls

/** `{"name": "hello", "value": "world"}`, both optional; an empty configuration keeps the defaults. */
@configuration
class Settings {
  @nonEmpty name: string = "hello";
  value: string = "world";
}

class AddHeaderRoot extends RootContext {
  settings: Settings = new Settings();

  /**
   * Reads the JSON configuration into `Settings`: a field of the wrong type or a misspelt name is logged, and
   * returning false makes Envoy reject the configuration.
   */
  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false;
    this.settings = settings;
    return true;
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
    const parts = this.plugin.settings.value.split(",");
    this.responseHeaders.add(this.plugin.settings.name, parts[1]); // trap: index-out-of-range
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
