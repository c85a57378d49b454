// grpc-call: on each request, a unary gRPC call asks a configured service whether to let it through.
// The request message is a protobuf `{ string path = 1; string method = 2; }`.
import {
  Configuration, FilterHeadersStatus, GrpcCallResponse, GrpcStatus, HttpContext, log, readConfiguration, registerRootContext,
  RootContext, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

/** `{"cluster": "checker", "service": "acme.Checker", "method": "Check", "timeoutMs": 500}`; timeoutMs is optional. */
@configuration
class Settings {
  @required @nonEmpty cluster: string = "";
  @required @nonEmpty service: string = "";
  @required @nonEmpty method: string = "";
  @range(1, 4294967295) timeoutMs: u32 = 500;
}

class GrpcCallRoot extends RootContext {
  cluster: string = "";
  service: string = "";
  method: string = "";
  timeoutMs: u32 = 500;

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    this.cluster = settings.cluster;
    this.service = settings.service;
    this.method = settings.method;
    this.timeoutMs = settings.timeoutMs;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new GrpcCheck(contextId, this);
  }
}

class GrpcCheck extends HttpContext {
  constructor(id: u32, readonly plugin: GrpcCallRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const path = this.requestHeaders.getBytes(":path");
    const method = this.requestHeaders.getBytes(":method");
    const message = concat(protobufField(1, path ? path : new ArrayBuffer(0)), protobufField(2, method ? method : new ArrayBuffer(0)));
    const result = this.grpcCall<GrpcCheck>(this.plugin.cluster, this.plugin.service, this.plugin.method, [], message, this.plugin.timeoutMs,
      (check: GrpcCheck, response: GrpcCallResponse): void => check.onCheck(response));
    if (result != WasmResult.Ok) {
      log.error("grpc-call: could not call cluster '" + this.plugin.cluster + "'");
      this.sendLocalResponse(503, "Check service unavailable.");
    }
    return FilterHeadersStatus.StopIteration;
  }

  onCheck(response: GrpcCallResponse): void {
    if (response.ok) {
      this.requestHeaders.replace("x-grpc-check", "ok");
      this.resumeRequest();
    } else if (response.status == GrpcStatus.PermissionDenied || response.status == GrpcStatus.Unauthenticated) {
      this.sendLocalResponse(403, "Forbidden.");
    } else {
      log.warn("grpc-call: check failed with gRPC status " + (<i32>response.status).toString());
      this.sendLocalResponse(503, "Check service unavailable.");
    }
  }
}

/** A length-delimited protobuf field: tag (field << 3 | 2), varint length, bytes. */
function protobufField(field: u32, value: ArrayBuffer): ArrayBuffer {
  const length = <u32>value.byteLength;
  let varintSize = 1;
  for (let rest = length >> 7; rest != 0; rest >>= 7) varintSize++;
  const encoded = new ArrayBuffer(1 + varintSize + value.byteLength);
  const base = changetype<usize>(encoded);
  store<u8>(base, <u8>(field << 3 | 2));
  let rest = length;
  for (let i = 0; i < varintSize; i++) {
    store<u8>(base + 1 + i, <u8>(rest & 0x7f | (i + 1 < varintSize ? 0x80 : 0)));
    rest >>= 7;
  }
  memory.copy(base + 1 + varintSize, changetype<usize>(value), value.byteLength);
  return encoded;
}

function concat(a: ArrayBuffer, b: ArrayBuffer): ArrayBuffer {
  const joined = new ArrayBuffer(a.byteLength + b.byteLength);
  memory.copy(changetype<usize>(joined), changetype<usize>(a), a.byteLength);
  memory.copy(changetype<usize>(joined) + a.byteLength, changetype<usize>(b), b.byteLength);
  return joined;
}

registerRootContext((contextId: u32): RootContext => new GrpcCallRoot(contextId));
