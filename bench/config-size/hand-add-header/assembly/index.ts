// add-header with its JSON read by hand, as the example was before it used the typed reader: the bench
// builds it beside examples/add-header to print what the typed reader costs (bench/config-size/index.ts).
import {
  Configuration, FilterHeadersStatus, Header, HttpContext, isJsonLike, isValidHeaderName, isValidHeaderValue, JsonKind, log,
  parseJson, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

class AddHeaderRoot extends RootContext {
  /** Encoded once here, so a request costs one host call and no UTF-8 work. */
  header: Header = new Header("hello", "world");

  /**
   * `{"name": "hello", "value": "world"}` (both optional); any text that is not a JSON object is the
   * value of `hello`; an empty configuration means `hello: world`. Malformed JSON is refused.
   */
  onConfigure(configuration: Configuration): bool {
    const text = configuration.toString();
    let name = "hello";
    let value = "world";
    if (isJsonLike(text)) {
      const parsed = parseJson(text);
      if (!parsed.ok) return refuse(parsed.error);
      const json = parsed.value;
      if (json.kind != JsonKind.Object) return refuse("must be a JSON object");
      const nameField = json.get("name");
      if (nameField) {
        if (nameField.kind != JsonKind.String || !isValidHeaderName(nameField.asString())) return refuse(BAD_NAME);
        name = nameField.asString();
      }
      const valueField = json.get("value");
      if (valueField) {
        if (valueField.kind != JsonKind.String || !isValidHeaderValue(valueField.asString())) return refuse(BAD_VALUE);
        value = valueField.asString();
      }
    } else if (text.length > 0) {
      if (!isValidHeaderValue(text)) return refuse(BAD_VALUE);
      value = text;
    }
    this.header = new Header(name, value);
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

const BAD_NAME = "'name' must be a string holding a header name";
const BAD_VALUE = "'value' must be a string without control characters";

function refuse(reason: string): bool {
  log.error("add-header: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
