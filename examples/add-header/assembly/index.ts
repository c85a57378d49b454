// add-header: adds a configured header to every response.
import {
  Configuration, FilterHeadersStatus, Header, HttpContext, isJsonLike, isValidHeaderName, isValidHeaderValue,
  parseConfiguration, refuseConfiguration, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

/** `{"name": "x-team", "value": "edge"}`, both optional: the SDK's reader refuses other fields and other types. */
@configuration
class Settings {
  name: string = "hello";
  value: string = "world";
}

class AddHeaderRoot extends RootContext {
  /** Encoded once here, so a request costs one host call and no UTF-8 work. */
  header: Header = new Header("hello", "world");

  /**
   * A JSON object is read into `Settings`; any other text is the value of `hello`; an empty configuration
   * means `hello: world`. Malformed JSON, and a name or value Envoy would not send, are refused.
   */
  onConfigure(configuration: Configuration): bool {
    const text = configuration.toString();
    const json = isJsonLike(text);
    // Text that is not JSON reads as `{}`, the defaults, and then becomes the value.
    const read = parseConfiguration<Settings>(json ? text : "");
    const settings = read.value;
    if (!settings) return refuseConfiguration(read.error);
    if (!json && text.length > 0) settings.value = text;
    if (!isValidHeaderName(settings.name)) return refuseConfiguration("name: expected a header name");
    if (!isValidHeaderValue(settings.value)) return refuseConfiguration("value: expected no control characters");
    this.header = new Header(settings.name, settings.value);
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
    this.responseHeaders.addHeader(this.plugin.header);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
