// Scenarios for tests/reliability and soak/ (the plugin configuration names one):
//   counter          creates "counter" (0) in on_configure; reads it in on_request_headers and writes value+1 with that CAS in
//                    on_response_headers; on CasMismatch (another VM wrote in between) it retries with
//                    SharedData.update. x-cas-retried: yes|no on the response. No increment may be lost.
//   trap-body        aborts in on_request_body when the chunk holds "TRAP" (a trap mid-stream).
//   trap-response    aborts in on_response_body.
//   stop-all-buffer  on_request_headers answers StopAllIterationAndBuffer and never resumes.
//   buffer-request   on_request_body answers StopIterationAndBuffer until end of stream.
//   hold-response    on_response_headers answers StopAllIterationAndBuffer: Envoy holds the response
//                    (headers and data) for the filter, and the data counts against the buffer limit.
import {
  Configuration, FilterDataStatus, FilterHeadersStatus, HttpContext, registerRootContext, RootContext, SharedData, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const SCENARIOS = ["counter", "trap-body", "trap-response", "stop-all-buffer", "buffer-request", "hold-response"];

class ReliabilityRoot extends RootContext {
  scenario: string = "";

  onConfigure(configuration: Configuration): bool {
    this.scenario = configuration.toString();
    // CAS 0 means "write unconditionally" in Envoy: two VMs that both find the key absent would
    // both write 1 and lose an increment. Creating it (as 0, which is harmless to repeat) before
    // any request makes every later write a real compare-and-swap.
    if (this.scenario == "counter" && SharedData.get("counter").result == WasmResult.NotFound) SharedData.set("counter", encode(0));
    return SCENARIOS.includes(this.scenario);
  }

  createHttpContext(contextId: u32): HttpContext {
    return new ReliabilityStream(contextId, this);
  }
}

class Increment {
  constructor() {}
}

function addOne(current: ArrayBuffer | null, state: Increment): ArrayBuffer | null {
  const value = current && current.byteLength == 8 ? load<u64>(changetype<usize>(current)) : 0;
  return encode(value + 1);
}

function encode(value: u64): ArrayBuffer {
  const out = new ArrayBuffer(8);
  store<u64>(changetype<usize>(out), value);
  return out;
}

class ReliabilityStream extends HttpContext {
  private readValue: u64 = 0;
  private readCas: u32 = 0;

  constructor(id: u32, readonly plugin: ReliabilityRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const scenario = this.plugin.scenario;
    if (scenario == "counter") {
      const current = SharedData.get("counter");
      if (current.result == WasmResult.Ok && current.value!.byteLength == 8) this.readValue = load<u64>(changetype<usize>(current.value!));
      this.readCas = current.cas;
    } else if (scenario == "stop-all-buffer") {
      return FilterHeadersStatus.StopAllIterationAndBuffer;
    }
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const scenario = this.plugin.scenario;
    if (scenario == "trap-body") {
      const text = this.requestBody.readString(0, bodySize);
      if (text.includes("TRAP")) throw new Error("trap requested in the request body");
    } else if (scenario == "buffer-request" && !endOfStream) {
      return FilterDataStatus.StopIterationAndBuffer;
    }
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const scenario = this.plugin.scenario;
    if (scenario == "counter") {
      let retried = false;
      const result = SharedData.set("counter", encode(this.readValue + 1), this.readCas);
      if (result == WasmResult.CasMismatch) {
        retried = true;
        if (SharedData.update<Increment>("counter", new Increment(), addOne, 1000) != WasmResult.Ok) {
          this.responseHeaders.add("x-cas-failed", "yes");
        }
      } else if (result != WasmResult.Ok) {
        this.responseHeaders.add("x-cas-failed", (<i32>result).toString());
      }
      this.responseHeaders.add("x-cas-retried", retried ? "yes" : "no");
    } else if (scenario == "hold-response" && !endOfStream) {
      return FilterHeadersStatus.StopAllIterationAndBuffer;
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const scenario = this.plugin.scenario;
    if (scenario == "trap-response") {
      throw new Error("trap requested in the response body");
    }
    return FilterDataStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new ReliabilityRoot(contextId));
