// Exercises the SDK API through a host: the plugin configuration names the scenario a stream runs.
import {
  attributes, Configuration, FilterDataStatus, FilterHeadersStatus, getCurrentTimeNanoseconds, getPropertyBool, getPropertyInteger,
  getPropertyString, Header, HttpContext, log, LogLevel, registerNamedRootContext, RootContext, setPropertyString, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

class ScenarioRoot extends RootContext {
  scenario: string = "";

  onVmStart(vmConfiguration: Configuration): bool {
    if (vmConfiguration.toString() == "fail") return false;
    log.info("vm started with " + vmConfiguration.size.toString() + " bytes of configuration");
    return true;
  }

  onConfigure(configuration: Configuration): bool {
    this.scenario = configuration.toString();
    return this.scenario != "refuse";
  }

  createHttpContext(contextId: u32): HttpContext {
    return new Scenario(contextId, this);
  }
}

class Scenario extends HttpContext {
  constructor(id: u32, readonly plugin: ScenarioRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const scenario = this.plugin.scenario;
    const headers = this.requestHeaders;
    if (scenario == "headers") {
      const listed = headers.all().length;
      const path = headers.get(":path");
      headers.add("x-path", path ? path : "(none)");
      headers.add("x-missing-is-null", headers.get("x-missing") == null ? "yes" : "no");
      headers.add("x-count", numHeaders.toString() + "/" + listed.toString());
      headers.add("x-multi-values", headers.values("X-Multi").join("|"));
      headers.replace("x-replace", "new");
      headers.remove("x-remove");
      headers.remove("x-never-there");
      headers.add("x-eos", endOfStream ? "true" : "false");
      headers.add("x-byte-size", headers.byteSize().toString());
    } else if (scenario == "single") {
      // Every read first, then the answers: each read reuses the SDK's block for the host's answer.
      const once = headers.getSingle("X-Once");
      const twice = headers.getSingle("x-twice");
      const twiceCount = headers.count("x-twice");
      const absent = headers.getSingle("x-absent");
      const absentCount = headers.count("x-absent");
      const number = headers.getSingleU64("X-Number", 1);
      const first = headers.get("x-twice");
      const hasOnce = headers.has("x-once");
      const twiceValues = headers.values("x-twice").join("|");
      const listed = headers.all().length;
      headers.add("x-once-value", once !== null ? once : "(null)");
      headers.add("x-twice-value", twice !== null ? twice : "(null)");
      headers.add("x-twice-count", twiceCount.toString());
      headers.add("x-absent-value", absent !== null ? "value" : "(null)");
      headers.add("x-absent-count", absentCount.toString());
      headers.add("x-number-read", number.toString());
      headers.add("x-twice-first", first !== null ? first : "(null)");
      headers.add("x-has-once", hasOnce ? "yes" : "no");
      headers.add("x-twice-values", twiceValues);
      headers.add("x-listed", listed.toString());
    } else if (scenario == "replace-all") {
      headers.replaceAll([new Header(":method", "GET"), new Header(":path", "/rewritten"), new Header(":authority", "a"), new Header("x-only", "1")]);
    } else if (scenario == "local-response") {
      this.sendLocalResponse(418, "short and stout", [new Header("x-local", "yes")], "sdk_teapot");
      return FilterHeadersStatus.Continue; // Envoy stops the stream whatever the callback returns
    } else if (scenario == "pause") {
      return FilterHeadersStatus.StopIteration;
    } else if (scenario == "close") {
      this.closeStream();
      return FilterHeadersStatus.StopIteration;
    } else if (scenario == "log-levels") {
      log.trace("trace message");
      log.debug("debug message");
      log.info("info message");
      log.warn("warn message");
      log.error("error message");
      log.critical("critical message");
      headers.add("x-debug-enabled", log.enabled(LogLevel.Debug) ? "true" : "false");
    } else if (scenario == "properties") {
      const rootId = getPropertyString(["plugin_root_id"]);
      headers.add("x-root-id", rootId ? rootId : "(none)");
      const address = getPropertyString(["source", "address"]);
      headers.add("x-source-address", address ? address : "(none)");
      const port = getPropertyInteger(["destination", "port"]);
      headers.add("x-destination-port", port.found ? port.value.toString() : "(none)");
      headers.add("x-mtls", getPropertyBool(["connection", "mtls"]) ? "true" : "false");
      headers.add("x-absent", getPropertyString(["no", "such", "property"]) == null ? "null" : "value");
      headers.add("x-set", setPropertyString(["sdk_state"], "kept") == WasmResult.Ok ? "ok" : "failed");
      const state = getPropertyString(["sdk_state"]);
      headers.add("x-read-back", state ? state : "(none)");
      headers.add("x-time-set", getCurrentTimeNanoseconds() > 1_600_000_000_000_000_000 ? "yes" : "no");
      const path = attributes.requestPath();
      headers.add("x-attribute-path", path ? path : "(none)");
      const requestHeaders = attributes.requestHeaders();
      let accept = "(none)";
      for (let i = 0; i < requestHeaders.length; i++) if (requestHeaders[i].name == "accept") accept = requestHeaders[i].value;
      headers.add("x-attribute-accept", accept);
      headers.add("x-attribute-port", attributes.destinationPort().value.toString());
    } else if (scenario == "abort") {
      failDeliberately(numHeaders);
    }
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (this.plugin.scenario != "body") return FilterDataStatus.Continue;
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    const body = this.requestBody;
    const whole = body.readString();
    body.replaceString(whole.toUpperCase() + "(" + bodySize.toString() + ")");
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add("x-response-seen", this.plugin.scenario);
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (this.plugin.scenario != "body") return FilterDataStatus.Continue;
    const body = this.responseBody;
    body.prependString("<");
    body.appendString(">");
    return FilterDataStatus.Continue;
  }

  onLog(): void {
    log.info("on_log for context " + this.id.toString());
  }

  onDone(): void {
    log.info("on_done for context " + this.id.toString());
  }
}

function failDeliberately(count: u32): void {
  assert(count == 0, "deliberate failure");
}

class SecondRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new SecondRootStream(contextId, this);
  }
}

class SecondRootStream extends HttpContext {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add("x-root", "second");
    return FilterHeadersStatus.Continue;
  }
}

log.info("top-level code runs in _initialize");
registerNamedRootContext("scenarios", (contextId: u32): RootContext => new ScenarioRoot(contextId));
registerNamedRootContext("second", (contextId: u32): RootContext => new SecondRoot(contextId));
