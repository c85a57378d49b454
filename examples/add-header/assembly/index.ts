// add-header: adds a configured header to every response.
import {
  Configuration, FilterHeadersStatus, Header, HttpContext, isJsonLike, JsonKind, log, parseJson, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

class AddHeaderRoot extends RootContext {
  name: string = "hello";
  value: string = "world";
  /** Encoded once here, so a request costs one host call and no UTF-8 work. */
  header: Header = new Header("hello", "world");

  /**
   * `{"name": "hello", "value": "world"}` (both optional); any text that is not a JSON object is the
   * value of `hello`; an empty configuration means `hello: world`. Malformed JSON is refused.
   */
  onConfigure(configuration: Configuration): bool {
    const text = configuration.toString();
    if (isJsonLike(text)) {
      if (!this.configureFromJson(text)) return false;
    } else if (text.length > 0) {
      if (!isValidValue(text)) return refuse("the value must not contain control characters");
      this.value = text;
    }
    this.header = new Header(this.name, this.value);
    return true;
  }

  private configureFromJson(text: string): bool {
    const parsed = parseJson(text);
    if (!parsed.ok) return refuse(parsed.error!);
    const json = parsed.value!;
    if (json.kind != JsonKind.Object) return refuse("JSON configuration must be an object");
    const name = json.get("name");
    if (name) {
      if (name.kind != JsonKind.String) return refuse("'name' must be a string");
      if (!isValidName(name.asString())) return refuse("'name' must be a non-empty HTTP header name");
      this.name = name.asString();
    }
    const value = json.get("value");
    if (value) {
      if (value.kind != JsonKind.String) return refuse("'value' must be a string");
      if (!isValidValue(value.asString())) return refuse("'value' must not contain control characters");
      this.value = value.asString();
    }
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

function refuse(reason: string): bool {
  log.error("add-header: invalid configuration: " + reason);
  return false;
}

/** An RFC 9110 token. */
function isValidName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alphanumeric && "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) < 0) return false;
  }
  return true;
}

/** No control characters but tab: Envoy rejects CR, LF and NUL in header values. */
function isValidValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId));
