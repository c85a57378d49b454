// Contexts as cpp-host keeps them: id 0 is the VM context, roots and streams share one
// per-VM counter starting at 1. Hostcalls act on the "effective" context, which is the
// callback's context unless the module called proxy_set_effective_context.

import type { BufferType, MapType, StreamType, WasmResult } from "./abi/enums.js";
import type { Pair } from "./abi/pairs.js";
import type { HeaderMap } from "./header-map.js";
import type { PropertyValue } from "./properties.js";
import type { HttpCallInfo } from "./results.js";

/** A body or data buffer the module may read, and write when `mutable`. */
export interface BodyBuffer {
  bytes: Uint8Array;
  mutable: boolean;
}

/** What an HTTP stream offers to hostcalls made on its context. */
export interface StreamHost extends AttributeSource {
  /** Envoy getMap(): the mutable map, or null when Envoy no longer holds it. */
  mutableMap(type: MapType): HeaderMap | null;
  /** Envoy getConstMap(): read access, which also works in the access-log phase. */
  readableMap(type: MapType): HeaderMap | null;
  readonly accessLogPhase: boolean;
  body(type: BufferType): BodyBuffer | null;
  continueStream(type: StreamType): WasmResult;
  closeStream(type: StreamType): WasmResult;
  sendLocalResponse(reply: LocalReplyRequest): void;
}

export interface LocalReplyRequest {
  status: number;
  body: Uint8Array;
  headers: Pair[];
  details: string;
  grpcStatus: number | null;
}

export interface HttpCallRecord {
  token: number;
  upstream: string;
  headers: Pair[];
  body: string;
  bodyBytes: Uint8Array;
  trailers: Pair[];
  timeoutMs: number;
  contextId: number;
  /** The root whose request it is (cpp-host runs callouts on root_context()): deleting it cancels the call. */
  rootId: number;
  /** Virtual time (ms) at which Envoy's router times the call out; null = no timeout (0). */
  dueAtMs: number | null;
}

/** Attributes a stream or connection answers (get_property) and filter state (set_property). */
export interface AttributeSource {
  /** Attributes computed from the stream itself (request.*, response.*, filter state). */
  property(segments: string[]): Uint8Array | undefined;
  /** Values the test gave, then the host's defaults for a local connection. */
  userProperty(segments: string[]): Uint8Array | undefined;
  /**
   * Envoy setProperty: filter state "wasm.<path>" (a CelState). `readonly` is the declared
   * prototype's (declare_property): such a state takes one value, later sets are BadArgument.
   */
  setProperty(rawPath: string, value: Uint8Array, readonly?: boolean): WasmResult;
}

/** What a TCP connection offers to hostcalls made on its context. */
export interface NetworkHost extends AttributeSource {
  data(type: BufferType): BodyBuffer | null;
  continueStream(type: StreamType): WasmResult;
  closeStream(type: StreamType): WasmResult;
}

export interface PluginIdentity {
  name: string;
  rootId: string;
  vmId: string;
  configuration: Uint8Array;
  properties: Map<string, PropertyValue>;
}

const NO_STATUS = Object.freeze({ code: 0, message: "" });

export class HostContext {
  stream: StreamHost | null = null;
  network: NetworkHost | null = null;
  /** Root only: the plugin during on_context_create/on_configure (cpp-host temp_plugin_). */
  tempPluginConfiguration: Uint8Array | null = null;
  /** Root only: proxy_get_status answer (HTTP call failure or gRPC close); replaced, never changed. */
  status: Readonly<{ code: number; message: string }> = NO_STATUS;
  /** Root only: set during proxy_on_http_call_response. */
  httpCallResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | null = null;
  /** Root only: arguments during proxy_on_foreign_function. */
  callData: Uint8Array | null = null;
  /** Root only: what the gRPC callbacks read (the message buffer, initial and trailing metadata). */
  grpcReceiveBuffer: Uint8Array | null = null;
  grpcInitialMetadata: HeaderMap | null = null;
  grpcTrailingMetadata: HeaderMap | null = null;
  /**
   * Properties declared on this context (foreign function declare_property: Envoy's
   * state_prototypes_); set_property consults its root's. Only `readonly` changes what the host does.
   */
  statePrototypes: Map<string, { readonly: boolean }> | null = null;
  /** HTTP stream only: the calls it made (RequestResult.httpCalls), kept as long as the stream is. */
  readonly httpCalls: HttpCallInfo[] = [];

  constructor(
    readonly id: number,
    readonly kind: "vm" | "root" | "stream",
    readonly plugin: PluginIdentity | null,
    private readonly parent: HostContext | null,
  ) {}

  /** The stream's or connection's attributes, if this context has either. */
  get attributes(): AttributeSource | null {
    return this.stream ?? this.network;
  }

  /** cpp-host root_context(): a stream's parent, or the root itself. */
  get root(): HostContext {
    return this.parent ?? this;
  }
}
