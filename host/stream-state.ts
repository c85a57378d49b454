// What one HTTP stream keeps (http-stream.ts builds on it): its context, the filter manager's two
// directions, the phases run so far, the local reply that went out and how the stream stopped.

import type { HostContext, LocalReplyRequest } from "./context.js";
import type { HttpStream } from "./http-stream.js";
import type { RequestKind } from "./local-reply.js";
import type { PropertyValue } from "./properties.js";
import type { LocalResponse, LogEntry, Phase, RequestResult } from "./results.js";
import { Direction, type Dir } from "./stream-direction.js";
import type { Vm } from "./vm.js";

/** Envoy's default per_connection_buffer_limit_bytes (the listener's), which bounds a filter's buffered body. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

export interface StreamEnvironment {
  vm: Vm;
  root: HostContext;
  failOpen: boolean;
  /** The plugin's options.properties with the stream's own on top. */
  properties: ReadonlyMap<string, PropertyValue>;
  /** Envoy's downstream connection id (connection.id, connection_id). */
  connectionId?: number;
  /** The stream's buffer limit (Envoy: the listener's per_connection_buffer_limit_bytes). */
  bufferLimitBytes?: number;
  /** Called once the stream's context was deleted. */
  onFinished(stream: HttpStream): void;
}

export abstract class StreamState {
  readonly logs: LogEntry[] = [];
  protected readonly phases: Phase[] = [];
  protected readonly req = new Direction();
  protected readonly resp = new Direction();
  protected readonly ctx: HostContext;
  protected stopped: RequestResult["stopped"] = null;
  /** The local reply that went out (or replaced the response), and its public form once asked for. */
  protected localReply: LocalReplyRequest | null = null;
  protected localResponse: LocalResponse | null = null;
  /** gRPC or HEAD, from the request headers as they arrived (decides how a local reply looks). */
  protected requestKind: RequestKind = { grpc: false, head: false };
  /** response.code_details after close_stream. */
  protected closeDetails: string | null = null;
  /** Body bytes that arrived in each direction (to tell a body the filter changed). */
  protected readonly received = { request: 0, response: 0 };
  /** Whether the callback running is the last of its direction (end of stream). */
  protected endOfStream = false;
  accessLogPhase = false;

  constructor(protected readonly env: StreamEnvironment) {
    this.ctx = env.vm.newContext("stream", env.root.plugin!, env.root);
  }

  protected dir(d: Dir): Direction {
    return d === "request" ? this.req : this.resp;
  }

  protected get bufferLimit(): number {
    return this.env.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES;
  }

  protected setLocalReply(reply: LocalReplyRequest): void {
    this.localReply = reply;
    this.localResponse = null;
  }
}
