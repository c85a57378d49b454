// The shapes of the testing API: what createPlugin() takes and what a Plugin's methods take and
// give back (results of streams and connections are in results.ts and tcp-connection.ts).

import type { LogLevelName } from "./abi/enums.js";
import type { HttpCallResponse } from "./callouts.js";
import type { TimeInput } from "./clock.js";
import type { FailurePolicyName } from "./failure-policy.js";
import type { Header, HeaderInput } from "./header-map.js";
import type { PropertyValue } from "./properties.js";
import type { LogEntry } from "./results.js";

export type { HttpCallResponse };

export interface PluginOptions {
  /** PluginConfig.root_id (the plugin_root_id property). */
  rootId?: string;
  /** VmConfig.vm_id: plugins with the same vm_id share shared data and queues. */
  vmId?: string;
  /** PluginConfig.name (the plugin_name property). */
  name?: string;
  /** PluginConfig.configuration, read in on_configure (PLUGIN_CONFIGURATION). */
  configuration?: string | Uint8Array;
  /** VmConfig.configuration, read in on_vm_start (VM_CONFIGURATION). */
  vmConfiguration?: string | Uint8Array;
  /**
   * Attributes by dotted path, e.g. "source.address", "node.metadata" (a map), "xds.cluster_name".
   * They override the host's defaults for a local connection; a stream's own attributes
   * (request.*, response.*) come from its headers.
   */
  properties?: Record<string, PropertyValue>;
  /** PluginConfig.fail_open (legacy): the same as failurePolicy "FAIL_OPEN"; set only one of them. */
  failOpen?: boolean;
  /**
   * What streams of a VM that failed get (PluginConfig.failure_policy; Istio failStrategy):
   * "FAIL_CLOSED" (Istio "FAIL_CLOSE"; the default) a 503; "FAIL_OPEN" they pass untouched;
   * "FAIL_RELOAD" a 503 too, but the next stream on that worker after the backoff gets a new VM.
   */
  failurePolicy?: FailurePolicyName;
  /**
   * FAIL_RELOAD: ReloadConfig.backoff.base_interval in ms (default 1000). Envoy waits a jittered
   * [base, 1.5 x base) since the VM was loaded; the host waits the longest of those.
   */
  reloadBackoffMs?: number;
  /**
   * Envoy's start-up with this many worker threads (--concurrency): a base VM, a configuration
   * canary (on_vm_start, on_configure, then dropped), then one VM per worker, each with its own
   * root context, globals and ticks; streams go round-robin over the workers. Without it the
   * plugin runs one VM, started once.
   */
  concurrency?: number;
  /**
   * The caller starts Envoy's VMs itself, each as a plugin without `concurrency` (the dev proxy's
   * canary and per-thread VMs, a replay): the one-VM warning does not apply and is not printed.
   */
  callerManagesVms?: boolean;
  /**
   * The longest a callback may run, in ms of real time, before the host stops it and fails its
   * VM, naming the callback; 0 = no limit. Default: PROXY_WASM_AS_CALLBACK_DEADLINE_MS if set,
   * else 10,000 under node's test runner and none elsewhere. Each guarded callback costs a
   * watchdog thread (see README).
   */
  callbackDeadlineMs?: number;
  /**
   * The module's source map (what `build` writes next to it): a trap then names the source line of each frame,
   * and a debugger attached to node sets breakpoints in the AssemblyScript source. Default: `<wasm path>.map`
   * when the module is given by path; false for none.
   */
  sourceMap?: string | false;
  /**
   * Writes each VM failure (a trap's report with its source line, a callback past its deadline) to stderr as it
   * happens, once, as Envoy logs it at error: a test that fails after it then shows why. Default true; false when
   * a test expects the failure.
   */
  reportFailures?: boolean;
  /** The wasm logger's level: messages below it are dropped; proxy_get_log_level answers it. */
  logLevel?: LogLevelName;
  /** Clusters that http_call/grpc_* may target (others: BAD_ARGUMENT / PARSE_FAILURE); by default any non-empty name. */
  clusters?: string[];
  /** The VM's environment variables (WASI environ_get). */
  environment?: Record<string, string>;
  /**
   * Wall-clock time the plugin sees at creation (a number is ms since the epoch, a bigint ns).
   * Set it for deterministic time; by default the real clock is used. Either way advanceTime()
   * moves it on.
   */
  now?: TimeInput;
  /**
   * Envoy's buffer limit for one stream (the listener's per_connection_buffer_limit_bytes, default
   * 1 MiB). A body a filter buffers (StopIterationAndBuffer, StopAllIterationAndBuffer) beyond it
   * gets Envoy's local reply: 413 for a request, 500 for a response (or a reset once the response
   * headers went downstream).
   */
  bufferLimitBytes?: number;
  /**
   * Add the request headers Envoy's connection manager adds before any filter runs
   * (conn_manager_utility.cc mutateRequestHeaders, with its defaults): a generated `x-request-id`
   * (UUID v4) and `x-forwarded-proto` (the scheme), each only when the request has none. Off by
   * default, so a request's headers are the ones the test gave.
   */
  connectionManagerHeaders?: boolean;
}

export interface StartResult {
  ok: boolean;
  error: string | null;
  logs: LogEntry[];
}

/** How a test answers one callout: a response, "fail" (a reset) or "timeout" (Envoy's 504). */
export type HttpCallAnswer = HttpCallResponse | "fail" | "timeout";

/** Header names and values are strings (UTF-8) or raw bytes (Uint8Array), as Envoy passes bytes on. */
export interface RequestSpec {
  requestHeaders?: HeaderInput[];
  requestBody?: (string | Uint8Array)[];
  requestTrailers?: HeaderInput[];
  responseHeaders?: HeaderInput[];
  responseBody?: (string | Uint8Array)[];
  responseTrailers?: HeaderInput[];
  properties?: Record<string, PropertyValue>;
  /**
   * Answers for the callouts this request makes, consumed in order: after each step of the
   * request, every pending call it made gets the next answer. Calls left without one stay pending.
   */
  httpCallResponses?: HttpCallAnswer[];
  /** The worker that serves the request (with `concurrency`); default: the next round-robin. */
  worker?: number;
}

export interface TcpSpec {
  /** Client -> upstream chunks; the last one carries end_of_stream. */
  downstreamData?: (string | Uint8Array)[];
  /** Upstream -> client chunks after the client's; the last one carries end_of_stream (the upstream close). */
  upstreamData?: (string | Uint8Array)[];
  properties?: Record<string, PropertyValue>;
  /** Answers for the callouts the connection makes, as in RequestSpec. */
  httpCallResponses?: HttpCallAnswer[];
  /** The worker that serves the connection; default: the next round-robin. */
  worker?: number;
}

export interface MetricValue {
  name: string;
  type: "counter" | "gauge" | "histogram";
  value: bigint;
  samples: bigint[];
}

export interface PendingHttpCall {
  /** The worker whose VM made the call (tokens count per VM). */
  worker: number;
  token: number;
  upstream: string;
  headers: Header[];
  body: string;
  bodyBytes: Uint8Array;
  trailers: Header[];
  timeoutMs: number;
  /** The context that made the call (a stream id, or the root id). */
  contextId: number;
  /** Milliseconds of advanceTime() left before Envoy times the call out; null = no timeout. */
  timesOutInMs: number | null;
}

export interface GrpcCallInfo {
  /** The worker whose VM opened it. */
  worker: number;
  token: number;
  kind: "call" | "stream";
  /** The cluster (or serialized GrpcService) the plugin named. */
  upstream: string;
  serviceName: string;
  method: string;
  initialMetadata: Header[];
  /**
   * The request message (unary), or the last 64 messages sent on the stream, oldest first: a
   * plugin may send on one stream for as long as the proxy runs, so older ones are not kept.
   */
  messages: Uint8Array[];
  /** How many messages the plugin sent on it in all (1 for a unary call). */
  messagesSent: number;
  timeoutMs: number;
  contextId: number;
  /** Stream: the plugin half-closed it with grpc_close. */
  localClosed: boolean;
  /** Stream: on_grpc_close was delivered. */
  remoteClosed: boolean;
}

export interface SharedDataValue {
  value: Uint8Array;
  /** The value as UTF-8. */
  text: string;
  cas: number;
}

export interface ShutdownResult {
  /** What on_done answered (true when the plugin has no on_done, or the VM failed). */
  done: boolean;
  /** on_delete ran: right away when on_done answered true, else after proxy_done. */
  deleted: boolean;
  logs: LogEntry[];
}

/** One worker VM of a plugin (the only one without `concurrency`). */
export interface WorkerInfo {
  index: number;
  /** Its root-level logs: start-up, ticks, callout answers, queue notifications, shutdown. */
  logs: LogEntry[];
  rootContextId: number | null;
  tickPeriodMs: number;
  memoryPages: number;
  /** Why its VM failed, or null. */
  failure: string | null;
  /** How many times FAIL_RELOAD replaced its VM. */
  reloads: number;
}
