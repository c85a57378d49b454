// Exercises every part of the ABI through the SDK's API; the plugin configuration names the scenario.
// Results go into request headers (x-...) or logs, where tests/sdk/abi.test.ts reads them.
import {
  callForeignFunction, Configuration, Counter, FilterHeadersStatus, FilterStatus, Gauge, GrpcCallResponse, GrpcStatus, GrpcStream,
  GrpcStreamHandler, Header, Histogram, HttpCallResponse, HttpContext, log, PeerType, registerRootContext, RootContext,
  SharedData, SharedQueue, StreamContext, WasmResult,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

class AbiRoot extends RootContext {
  scenario: string = "";
  queue: SharedQueue | null = null;
  ticks: i32 = 0;
  shuttingDown: bool = false;

  onConfigure(configuration: Configuration): bool {
    this.scenario = configuration.toString();
    if (this.scenario == "queue") this.queue = SharedQueue.register("events");
    if (this.scenario == "tick") this.setTickPeriod(100);
    return true;
  }

  onTick(): void {
    this.ticks++;
    log.info("tick " + this.ticks.toString());
    if (this.scenario == "tick" && this.ticks == 3) this.setTickPeriod(0);
    if (this.shuttingDown) this.done();
  }

  onQueueReady(queue: SharedQueue): void {
    for (let item = queue.dequeueString(); item != null; item = queue.dequeueString()) log.info("dequeued " + item);
    log.info("queue empty: " + (queue.dequeue() == null ? "yes" : "no"));
  }

  onForeignFunction(functionId: u32, args: ArrayBuffer): void {
    log.info("foreign function " + functionId.toString() + " with " + String.UTF8.decode(args));
  }

  onDone(): bool {
    if (this.scenario != "done-later") return true;
    log.info("shutting down later");
    this.shuttingDown = true;
    this.setTickPeriod(10);
    return false;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return this.scenario == "tcp" ? null : new AbiStream(contextId, this);
  }

  createStreamContext(contextId: u32): StreamContext {
    return new AbiConnection(contextId, this);
  }
}

class AbiStream extends HttpContext {
  constructor(id: u32, readonly plugin: AbiRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const scenario = this.plugin.scenario;
    if (scenario == "http-call") return this.startHttpCall();
    if (scenario == "http-call-bad") {
      const result = this.httpCall<AbiStream>("cluster", [new Header(":method", "GET")], null, [], 100, afterHttpCall);
      this.requestHeaders.add("x-result", (<i32>result).toString());
    } else if (scenario == "grpc-call") {
      const result = this.grpcCall<AbiStream>("grpc", "acme.Echo", "Say", [new Header("x-md", "1")], String.UTF8.encode("hi"), 1000, afterGrpcCall);
      if (result == WasmResult.Ok) return FilterHeadersStatus.StopIteration;
      this.requestHeaders.add("x-result", (<i32>result).toString());
    } else if (scenario == "grpc-stream") {
      const stream = this.openGrpcStream("grpc", "acme.Chat", "Talk", [], new ChatHandler(this));
      if (!stream) {
        this.requestHeaders.add("x-result", "refused");
        return FilterHeadersStatus.Continue;
      }
      stream.send(String.UTF8.encode("hello"));
      return FilterHeadersStatus.StopIteration;
    } else if (scenario == "grpc-cancel") {
      const stream = this.openGrpcStream("grpc", "acme.Chat", "Talk", [], new ChatHandler(this));
      this.requestHeaders.add("x-cancel", stream ? (<i32>stream.cancel()).toString() : "refused");
    } else if (scenario == "shared-data") {
      this.sharedData();
    } else if (scenario == "queue") {
      const queue = SharedQueue.resolve("", "events");
      this.requestHeaders.add("x-resolved", queue ? "yes" : "no");
      this.requestHeaders.add("x-unknown-queue", SharedQueue.resolve("", "no-such-queue") == null ? "null" : "found");
      if (queue) {
        queue.enqueueString("one");
        queue.enqueueString("two");
      }
    } else if (scenario == "metrics") {
      this.metrics();
    } else if (scenario == "foreign") {
      const answer = callForeignFunction("reverse", String.UTF8.encode("abc"));
      this.requestHeaders.add("x-foreign", answer.result == WasmResult.Ok ? String.UTF8.decode(answer.value!) : "error " + (<i32>answer.result).toString());
      this.requestHeaders.add("x-missing-foreign", (<i32>callForeignFunction("no-such-function", new ArrayBuffer(0)).result).toString());
    }
    return FilterHeadersStatus.Continue;
  }

  private startHttpCall(): FilterHeadersStatus {
    const headers = [new Header(":method", "POST"), new Header(":path", "/check"), new Header(":authority", "cluster"), new Header("x-test", "1")];
    const result = this.httpCall<AbiStream>("cluster", headers, String.UTF8.encode("ping"), [new Header("x-trailer", "t")], 1234, afterHttpCall);
    if (result != WasmResult.Ok) {
      this.requestHeaders.add("x-result", (<i32>result).toString());
      return FilterHeadersStatus.Continue;
    }
    return FilterHeadersStatus.StopIteration;
  }

  onHttpCall(response: HttpCallResponse): void {
    const headers = this.requestHeaders;
    headers.add("x-call-failed", response.failed ? "yes" : "no");
    if (response.failed) {
      const failure = response.failure();
      headers.add("x-call-failure", failure.code.toString() + " " + failure.message);
    } else {
      headers.add("x-call-status", response.status.toString());
      const echoed = response.headers.get("x-echo");
      headers.add("x-call-header", echoed ? echoed : "(none)");
      headers.add("x-call-body", response.bodyString());
      const trailer = response.trailers.get("x-done");
      headers.add("x-call-trailer", trailer ? trailer : "(none)");
    }
    this.resumeRequest();
  }

  onGrpcCall(response: GrpcCallResponse): void {
    this.requestHeaders.add("x-grpc-status", (<i32>response.status).toString());
    this.requestHeaders.add("x-grpc-message", String.UTF8.decode(response.message));
    this.requestHeaders.add("x-grpc-status-message", response.statusMessage);
    this.resumeRequest();
  }

  private sharedData(): void {
    const headers = this.requestHeaders;
    headers.add("x-absent", (<i32>SharedData.get("abi/key").result).toString());
    headers.add("x-create", (<i32>SharedData.setString("abi/key", "v1", 12345)).toString());
    const first = SharedData.get("abi/key");
    headers.add("x-read", String.UTF8.decode(first.value!));
    headers.add("x-update", (<i32>SharedData.setString("abi/key", "v2", first.cas)).toString());
    headers.add("x-stale", (<i32>SharedData.setString("abi/key", "v3", first.cas)).toString());
    headers.add("x-unconditional", (<i32>SharedData.setString("abi/key", "v4")).toString());
    headers.add("x-final", SharedData.getString("abi/key")!);
    const counted = SharedData.update<i32>("abi/counter", 5, addToCounter);
    headers.add("x-counter", (<i32>counted).toString() + " " + SharedData.getString("abi/counter")!);
    const raced = SharedData.update<RaceState>("abi/race", new RaceState(), appendAfterRival);
    headers.add("x-race", (<i32>raced).toString() + " " + SharedData.getString("abi/race")!);
  }

  private metrics(): void {
    const headers = this.requestHeaders;
    const counter = new Counter("abi_requests");
    const gauge = new Gauge("abi_in_flight");
    const histogram = new Histogram("abi_latency_ms");
    headers.add("x-defined", counter.defined && gauge.defined && histogram.defined ? "yes" : "no");
    headers.add("x-counter-add", (<i32>counter.increment(2)).toString());
    headers.add("x-counter-zero", (<i32>counter.increment(0)).toString());
    headers.add("x-counter-value", counter.get().value.toString());
    gauge.set(10);
    headers.add("x-gauge-down", (<i32>gauge.add(-3)).toString());
    headers.add("x-gauge-value", gauge.get().value.toString());
    headers.add("x-histogram-record", (<i32>histogram.record(42)).toString());
  }
}

function afterHttpCall(stream: AbiStream, response: HttpCallResponse): void {
  stream.onHttpCall(response);
}

function afterGrpcCall(stream: AbiStream, response: GrpcCallResponse): void {
  stream.onGrpcCall(response);
}

function addToCounter(current: ArrayBuffer | null, amount: i32): ArrayBuffer | null {
  const value = current ? I32.parseInt(String.UTF8.decode(current)) : 0;
  return String.UTF8.encode((value + amount).toString());
}

/** Plays another VM that creates the key between this update's read and its write. */
class RaceState {
  rivalWrote: bool = false;
}

function appendAfterRival(current: ArrayBuffer | null, race: RaceState): ArrayBuffer | null {
  if (!race.rivalWrote) {
    race.rivalWrote = true;
    SharedData.setString("abi/race", "rival");
  }
  return String.UTF8.encode((current ? String.UTF8.decode(current) + "+" : "") + "mine");
}

class ChatHandler extends GrpcStreamHandler {
  constructor(readonly stream: AbiStream) {
    super();
  }

  onInitialMetadata(grpc: GrpcStream, numHeaders: u32): void {
    const value = grpc.initialMetadata.get("x-initial");
    this.stream.requestHeaders.add("x-initial", value ? value : "(none)");
  }

  onMessage(grpc: GrpcStream, message: ArrayBuffer): void {
    this.stream.requestHeaders.add("x-message", String.UTF8.decode(message));
  }

  onTrailingMetadata(grpc: GrpcStream, numTrailers: u32): void {
    const value = grpc.trailingMetadata.get("x-trailing");
    this.stream.requestHeaders.add("x-trailing", value ? value : "(none)");
  }

  onClose(grpc: GrpcStream, status: GrpcStatus, statusMessage: string): void {
    this.stream.requestHeaders.add("x-close", (<i32>status).toString() + " " + statusMessage);
    this.stream.resumeRequest();
  }
}

class AbiConnection extends StreamContext {
  onNewConnection(): FilterStatus {
    log.info("new connection");
    return FilterStatus.Continue;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    const data = this.downstreamData;
    const text = data.readString(0, dataSize);
    if (text.includes("close")) {
      this.closeDownstream();
      return FilterStatus.StopIteration;
    }
    data.prependString("[");
    data.appendString("]");
    return FilterStatus.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    log.info("upstream sent " + dataSize.toString() + " bytes" + (endOfStream ? ", end" : ""));
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    log.info("downstream closed by " + (peer == PeerType.Local ? "local" : peer == PeerType.Remote ? "remote" : "unknown"));
  }

  onUpstreamConnectionClose(peer: PeerType): void {
    log.info("upstream closed");
  }

  onDone(): void {
    log.info("connection done");
  }

  onLog(): void {
    log.info("connection log");
  }
}

registerRootContext((contextId: u32): RootContext => new AbiRoot(contextId));
