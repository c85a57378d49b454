// body-rewrite: buffers a JSON response body and sets one top-level field to a configured value.
import {
  Configuration, FilterDataStatus, FilterHeadersStatus, HttpContext, JsonKind, JsonValue, log, parseJson, readConfiguration,
  registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

/** `{"field": "status", "value": "rewritten", "maxBodyBytes": 524288}`; `value` may be any JSON value. */
@configuration
class Settings {
  @required @nonEmpty field: string = "";
  @required value: JsonValue = JsonValue.newNull();
  /** Below Envoy's default 1 MiB buffer limit, which resets a response buffered past it. */
  @range(1, 67108864) maxBodyBytes: u32 = 512 << 10;
}

class BodyRewriteRoot extends RootContext {
  field: string = "";
  value: JsonValue = JsonValue.newNull();
  /** Below Envoy's default 1 MiB buffer limit, which resets a response buffered past it. */
  maxBodyBytes: u32 = 512 << 10;

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    this.field = settings.field;
    this.value = settings.value;
    this.maxBodyBytes = settings.maxBodyBytes;
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

registerRootContext((contextId: u32): RootContext => new BodyRewriteRoot(contextId));
