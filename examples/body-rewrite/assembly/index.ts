// body-rewrite: buffers a JSON response body and sets one top-level field to a configured value.
import {
  Configuration, FilterDataStatus, FilterHeadersStatus, HttpContext, JsonKind, JsonValue, log, parseJson,
  registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

class BodyRewriteRoot extends RootContext {
  field: string = "";
  value: JsonValue = JsonValue.newNull();
  /** Below Envoy's default 1 MiB buffer limit, which resets a response buffered past it. */
  maxBodyBytes: u32 = 512 << 10;

  /** `{"field": "status", "value": "rewritten", "maxBodyBytes": 524288}`; `value` may be any JSON value. */
  onConfigure(configuration: Configuration): bool {
    const parsed = parseJson(configuration.toString());
    if (!parsed.ok) return refuse(parsed.error);
    const json = parsed.value;
    if (json.kind != JsonKind.Object) return refuse("the configuration must be a JSON object");
    const field = json.get("field");
    if (!field || field.kind != JsonKind.String || field.asString().length == 0) return refuse("'field' must be a non-empty string");
    const value = json.get("value");
    if (!value) return refuse("'value' is required");
    this.field = field.asString();
    this.value = value;
    const limit = json.get("maxBodyBytes");
    if (limit) {
      if (!limit.isU64() || limit.asU64() == 0 || limit.asU64() > 64 << 20) return refuse("'maxBodyBytes' must be an integer from 1 to 67108864");
      this.maxBodyBytes = <u32>limit.asU64();
    }
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new BodyRewrite(contextId, this);
  }
}

class BodyRewrite extends HttpContext {
  private rewriting: bool = false;

  constructor(id: u32, readonly plugin: BodyRewriteRoot) {
    super(id, plugin);
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const contentType = this.responseHeaders.get("content-type");
    this.rewriting = !endOfStream && contentType != null && isJsonType(contentType);
    // The length changes with the rewrite: drop it, so Envoy frames the new body itself.
    if (this.rewriting) this.responseHeaders.remove("content-length");
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (!this.rewriting) return FilterDataStatus.Continue;
    if (bodySize > this.plugin.maxBodyBytes) {
      log.warn("body-rewrite: body larger than maxBodyBytes, passing it on unchanged");
      this.rewriting = false;
      return FilterDataStatus.Continue;
    }
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    this.rewriting = false;
    const body = this.responseBody;
    const parsed = parseJson(body.readString(0, bodySize));
    if (!parsed.ok || parsed.value.kind != JsonKind.Object) {
      log.debug("body-rewrite: the body is not a JSON object, passing it on unchanged");
      return FilterDataStatus.Continue;
    }
    const document = parsed.value;
    document.set(this.plugin.field, this.plugin.value);
    body.replaceString(document.toString());
    return FilterDataStatus.Continue;
  }
}

/** application/json, or any application/*+json, with parameters allowed. */
function isJsonType(contentType: string): bool {
  const semicolon = contentType.indexOf(";");
  const mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase();
  return mediaType == "application/json" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
}

function refuse(reason: string): bool {
  log.error("body-rewrite: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new BodyRewriteRoot(contextId));
