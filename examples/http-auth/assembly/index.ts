// http-auth: asks an auth cluster whether to let each request through.
import {
  Configuration, FilterHeadersStatus, Header, HttpCallResponse, HttpContext, log, readConfiguration, registerRootContext,
  RootContext, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const AUTH_USER = "x-auth-user";

/** `{"cluster": "auth", "path": "/check", "timeoutMs": 500}`; only `cluster` is required. */
@configuration
class Settings {
  @required @nonEmpty cluster: string = "";
  path: string = "/check";
  @range(1, 60000) timeoutMs: u32 = 500;
}

class HttpAuthRoot extends RootContext {
  settings: Settings = new Settings();

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    if (!settings.path.startsWith("/")) {
      log.error("invalid configuration: path: expected a path starting with '/'");
      return false;
    }
    this.settings = settings;
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
    const check = [new Header(":method", "GET"), new Header(":path", this.plugin.settings.path), new Header(":authority", this.plugin.settings.cluster)];
    const authorization = headers.getBytes("authorization");
    if (authorization) check.push(Header.fromBytes(String.UTF8.encode("authorization"), authorization));
    const result = this.httpCall<HttpAuth>(this.plugin.settings.cluster, check, null, [], this.plugin.settings.timeoutMs,
      (context: HttpAuth, response: HttpCallResponse): void => context.onAuthResponse(response));
    if (result != WasmResult.Ok) {
      log.error("http-auth: could not call cluster '" + this.plugin.settings.cluster + "'");
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

registerRootContext((contextId: u32): RootContext => new HttpAuthRoot(contextId));
