import { getBufferBytes } from "../hostcalls/buffers";
import { getStatus, grpcCancel, grpcClose, grpcSend } from "../hostcalls/callouts";
import { HeaderMap } from "../http/headers";
import { emptyBuffer } from "../runtime/memory";
import { BufferType, GrpcStatus, MapType, WasmResult } from "../types";

// @ts-ignore: decorator
@lazy export const grpcInitialMetadata = new HeaderMap(MapType.GrpcReceiveInitialMetadata);
// @ts-ignore: decorator
@lazy export const grpcTrailingMetadata = new HeaderMap(MapType.GrpcReceiveTrailingMetadata);

/** Reads the message the host is delivering. */
export function receivedGrpcMessage(size: u32): ArrayBuffer {
  const message = size ? getBufferBytes(BufferType.GrpcReceiveBuffer, 0, size) : null;
  return message ? message : emptyBuffer();
}

/** The outcome of a unary grpcCall: the response message on Ok, else the status and its message. */
export class GrpcCallResponse {
  constructor(readonly token: u32, readonly status: GrpcStatus, readonly message: ArrayBuffer, readonly statusMessage: string) {}

  get ok(): bool { return this.status == GrpcStatus.Ok; }
}

/** What a gRPC stream tells its opener. Subclass it and keep a reference to your context in it. */
export abstract class GrpcStreamHandler {
  onInitialMetadata(stream: GrpcStream, numHeaders: u32): void {}
  onMessage(stream: GrpcStream, message: ArrayBuffer): void {}
  onTrailingMetadata(stream: GrpcStream, numTrailers: u32): void {}
  /** The stream is over; it cannot be used any more. */
  onClose(stream: GrpcStream, status: GrpcStatus, statusMessage: string): void {}
}

/** An open gRPC stream. Metadata is readable only inside the handler's callbacks. */
export class GrpcStream {
  constructor(readonly token: u32, readonly handler: GrpcStreamHandler) {}

  get initialMetadata(): HeaderMap { return grpcInitialMetadata; }
  get trailingMetadata(): HeaderMap { return grpcTrailingMetadata; }

  send(message: ArrayBuffer, endOfStream: bool = false): WasmResult { return grpcSend(this.token, message, endOfStream); }
  /** Stops the stream without telling the peer more; onClose is not called. */
  cancel(): WasmResult { return grpcCancel(this.token); }
  /** Half-closes the stream: the peer's remaining messages and close still arrive. */
  close(): WasmResult { return grpcClose(this.token); }
}

/** The message of the status being delivered to onClose. */
export function closeStatusMessage(): string {
  return getStatus().message;
}
