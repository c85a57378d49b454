import { Body } from "../http/body";
import { closeStream, continueStream } from "../hostcalls/stream";
import { BufferType, FilterStatus, PeerType, StreamType, WasmResult } from "../types";
import { Context } from "./context";
import { RootContext } from "./root";

// @ts-ignore: decorator
@lazy const downstreamData = new Body(BufferType.DownstreamData);
// @ts-ignore: decorator
@lazy const upstreamData = new Body(BufferType.UpstreamData);

/**
 * One TCP connection through a network filter. Envoy calls onNewConnection, then onDownstreamData and
 * onUpstreamData as bytes flow, the close callbacks as each side closes, and onDone then onLog.
 */
export class StreamContext extends Context {
  constructor(id: u32, readonly root: RootContext) {
    super(id);
  }

  onNewConnection(): FilterStatus { return FilterStatus.Continue; }
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  onDownstreamConnectionClose(peer: PeerType): void {}
  onUpstreamConnectionClose(peer: PeerType): void {}
  onLog(): void {}
  onDone(): void {}

  /** The bytes from the client being delivered in onDownstreamData. */
  get downstreamData(): Body { this.activate(); return downstreamData; }
  /** The bytes from the upstream being delivered in onUpstreamData. */
  get upstreamData(): Body { this.activate(); return upstreamData; }

  /** Lets data held by StopIteration flow again. */
  resumeDownstream(): WasmResult { this.activate(); return continueStream(StreamType.Downstream); }
  /** Envoy answers Unimplemented: upstream data cannot be resumed. */
  resumeUpstream(): WasmResult { this.activate(); return continueStream(StreamType.Upstream); }

  /** Closes the connection to the client. */
  closeDownstream(): WasmResult { this.activate(); return closeStream(StreamType.Downstream); }
  /** Closes the connection to the upstream. */
  closeUpstream(): WasmResult { this.activate(); return closeStream(StreamType.Upstream); }
}
