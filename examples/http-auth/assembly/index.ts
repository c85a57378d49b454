// http-auth: asks an auth cluster whether to let each request through.
import {
  Configuration, FilterHeadersStatus, Header, HttpCallResponse, HttpContext, JsonKind, JsonValue, log, parseJson,
  registerRootContext, RootContext, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const AUTH_USER = "x-auth-user";

class HttpAuthRoot extends RootContext {
  cluster: string = "";
  path: string = "/check";
  timeoutMs: u32 = 500;

  /** `{"cluster": "auth", "path": "/check", "timeoutMs": 500}`; only `cluster` is required. */
  onConfigure(configuration: Configuration): bool {
    const parsed = parseJson(configuration.toString());
    if (!parsed.ok) return refuse(parsed.error);
    const json = parsed.value;
    if (json.kind != JsonKind.Object) return refuse("the configuration must be a JSON object");
    const cluster = json.get("cluster");
    if (!cluster || cluster.kind != JsonKind.String || cluster.asString().length == 0) return refuse("'cluster' must be a non-empty string");
    this.cluster = cluster.asString();
    const path = json.get("path");
    if (path) {
      if (path.kind != JsonKind.String || !path.asString().startsWith("/")) return refuse("'path' must be a string starting with '/'");
      this.path = path.asString();
    }
    const timeout = json.get("timeoutMs");
    if (timeout) {
      if (!isPositiveInteger(timeout)) return refuse("'timeoutMs' must be a positive integer");
      this.timeoutMs = <u32>timeout.asU64();
    }
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new HttpAuth(contextId, this);
  }
}

class HttpAuth extends HttpContext {
  constructor(id: u32, readonly plugin: HttpAuthRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.requestHeaders;
    // Only the auth service may vouch for a user: drop whatever the client claims.
    headers.remove(AUTH_USER);
    // Only one credential is checked: a second one would reach the upstream unchecked.
    if (headers.values("authorization").length > 1) {
      log.debug("http-auth: request refused: more than one authorization header");
      this.sendLocalResponse(400, "More than one authorization header.");
      return FilterHeadersStatus.StopIteration;
    }
    const check = [new Header(":method", "GET"), new Header(":path", this.plugin.path), new Header(":authority", this.plugin.cluster)];
    const authorization = headers.getBytes("authorization");
    if (authorization) check.push(Header.fromBytes(String.UTF8.encode("authorization"), authorization));
    const result = this.httpCall<HttpAuth>(this.plugin.cluster, check, null, [], this.plugin.timeoutMs,
      (context: HttpAuth, response: HttpCallResponse): void => context.onAuthResponse(response));
    if (result != WasmResult.Ok) {
      log.error("http-auth: could not call cluster '" + this.plugin.cluster + "'");
      this.sendLocalResponse(503, "Authorization service unavailable.");
    }
    return FilterHeadersStatus.StopIteration;
  }

  onAuthResponse(response: HttpCallResponse): void {
    const status = response.failed ? 0 : response.status;
    if (status == 200) {
      const user = response.headers.getBytes(AUTH_USER);
      if (user) this.requestHeaders.replaceBytes(AUTH_USER, user);
      this.resumeRequest();
    } else if (status == 401 || status == 403) {
      this.sendLocalResponse(status, status == 401 ? "Unauthorized." : "Forbidden.");
    } else {
      log.warn(response.failed ? "http-auth: the auth call failed" : "http-auth: unexpected status " + status.toString() + " from the auth service");
      this.sendLocalResponse(503, "Authorization service unavailable.");
    }
  }
}

function isPositiveInteger(value: JsonValue): bool {
  return value.kind == JsonKind.Number && value.isInteger() && value.asNumber() >= 1 && value.asNumber() <= 4294967295;
}

function refuse(reason: string): bool {
  log.error("http-auth: invalid configuration: " + reason);
  return false;
}

registerRootContext((contextId: u32): RootContext => new HttpAuthRoot(contextId));
