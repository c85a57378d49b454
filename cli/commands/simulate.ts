// `proxy-wasm-as simulate PLUGIN.wasm ...`: start the plugin on the Envoy-like host as Envoy
// starts it (base VM, configuration canary, one VM per worker: --concurrency, default 1), run N
// identical HTTP requests round-robin over the workers and print a readable report on a terminal, or one
// JSON document with --json or when stdout is not a terminal (see ../format/simulate-text.ts).
// Exit codes: 0 started, 2 failed to load/start/configure (JSON still printed), 1 bad usage.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { LOG_LEVELS, type LogLevelName } from "../../host/abi/enums.js";
import { formatSimulateReport, simulateOutput } from "../format/simulate-text.js";
import { DEFAULT_CALLBACK_DEADLINE_MS } from "../../host/deadline.js";
import {
  createPlugin,
  type FailurePolicyName,
  type Header,
  type HttpCallAnswer,
  type PropertyValue,
  type RequestSpec,
} from "../../host/index.js";
import { readConfigFile } from "../config-file.js";

class UsageError extends Error {}

const collect = (value: string, previous: string[]) => [...previous, value];

/** "name: value"; a name starting with ':' is a pseudo-header, so search after its first char. */
export function parseHeader(text: string): Header {
  const sep = text.indexOf(": ", text.startsWith(":") ? 1 : 0);
  if (sep <= 0) throw new UsageError(`bad header '${text}': expected 'name: value'`);
  return [text.slice(0, sep), text.slice(sep + 2)];
}

function parseProperty(text: string): [string, PropertyValue] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`bad property '${text}': expected PATH=VALUE`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * `status=200,header=name:value,body=REST` (header repeatable; body runs to the end of the
 * string), or `fail` (the call fails as a reset), or `timeout` (Envoy's 504).
 */
export function parseHttpCallResponse(text: string): HttpCallAnswer {
  if (text === "fail" || text === "timeout") return text;
  const answer: { status?: number; headers: Header[]; body?: string } = { headers: [] };
  let rest = text;
  while (rest.length > 0) {
    const eq = rest.indexOf("=");
    const key = eq < 0 ? rest : rest.slice(0, eq);
    if (key === "body") {
      answer.body = rest.slice(eq + 1);
      break;
    }
    const comma = rest.indexOf(",", eq + 1);
    const value = eq < 0 ? "" : rest.slice(eq + 1, comma < 0 ? undefined : comma);
    rest = comma < 0 ? "" : rest.slice(comma + 1);
    if (key === "status" && /^\d{3}$/.test(value)) answer.status = Number(value);
    else if (key === "header" && value.indexOf(":", value.startsWith(":") ? 1 : 0) > 0) {
      const sep = value.indexOf(":", value.startsWith(":") ? 1 : 0);
      answer.headers.push([value.slice(0, sep), value.slice(sep + 1).trimStart()]);
    } else {
      throw new UsageError(`bad --http-call-response '${text}': expected status=NNN,header=name:value,...,body=REST or fail`);
    }
  }
  return answer;
}

interface SimulateOptions {
  rootId?: string;
  vmId?: string;
  config?: string;
  configFile?: string;
  vmConfig?: string;
  requestHeader: string[];
  requestBody: string[];
  requestTrailer: string[];
  responseHeader: string[];
  responseBody: string[];
  responseTrailer: string[];
  property: string[];
  requests: string;
  failOpen?: boolean;
  logLevel: string;
  cluster: string[];
  httpCallResponse: string[];
  tick: string;
  json?: boolean;
  concurrency: string;
  worker?: string;
  failurePolicy?: string;
  reloadBackoff?: string;
  interval: string;
  callbackDeadline: string;
}

/** A whole number option at least `min`. */
function wholeNumber(flag: string, text: string, min = 0): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`bad ${flag} '${text}': a whole number${min > 0 ? ` from ${min}` : ""}`);
  return n;
}

function run(wasmPath: string, o: SimulateOptions): number {
  if (o.config !== undefined && o.configFile !== undefined) throw new UsageError("use either --config or --config-file, not both");
  if (!LOG_LEVELS.includes(o.logLevel as LogLevelName)) throw new UsageError(`bad --log-level '${o.logLevel}': one of ${LOG_LEVELS.join(", ")}`);
  const requests = Number(o.requests);
  if (!Number.isInteger(requests) || requests < 0) throw new UsageError(`bad --requests '${o.requests}': a whole number`);
  const ticks = Number(o.tick);
  if (!Number.isInteger(ticks) || ticks < 0) throw new UsageError(`bad --tick '${o.tick}': a whole number`);
  const httpCallResponses = o.httpCallResponse.map(parseHttpCallResponse);
  const concurrency = wholeNumber("--concurrency", o.concurrency, 1);
  const worker = o.worker === undefined ? undefined : wholeNumber("--worker", o.worker);
  if (worker !== undefined && worker >= concurrency) throw new UsageError(`bad --worker ${worker}: workers are 0 to ${concurrency - 1}`);
  const interval = wholeNumber("--interval", o.interval);
  let wasm: Uint8Array;
  let configuration: string | Uint8Array | undefined = o.config;
  try {
    wasm = readFileSync(wasmPath);
    if (o.configFile !== undefined) configuration = readConfigFile(o.configFile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const spec: RequestSpec = {
    requestHeaders: o.requestHeader.map(parseHeader),
    requestBody: o.requestBody,
    requestTrailers: o.requestTrailer.length ? o.requestTrailer.map(parseHeader) : undefined,
    responseHeaders: o.responseHeader.map(parseHeader),
    responseBody: o.responseBody,
    responseTrailers: o.responseTrailer.length ? o.responseTrailer.map(parseHeader) : undefined,
    httpCallResponses,
    worker,
  };
  const plugin = createPlugin(wasm, {
    sourceMap: `${wasmPath}.map`,
    rootId: o.rootId,
    vmId: o.vmId,
    configuration,
    vmConfiguration: o.vmConfig,
    properties: Object.fromEntries(o.property.map(parseProperty)),
    failOpen: o.failOpen === true,
    failurePolicy: o.failurePolicy as FailurePolicyName | undefined,
    reloadBackoffMs: o.reloadBackoff === undefined ? undefined : wholeNumber("--reload-backoff", o.reloadBackoff, 2),
    concurrency,
    callbackDeadlineMs: wholeNumber("--callback-deadline", o.callbackDeadline),
    logLevel: o.logLevel as LogLevelName,
    clusters: o.cluster.length > 0 ? o.cluster : undefined,
    reportFailures: false, // the printed logs hold the VM's failure
  });
  const start = plugin.start();
  let ticked = 0;
  if (start.ok) for (let i = 0; i < ticks; i++) if (plugin.tick()) ticked++;
  const tickLogs = start.ok ? plugin.logs.slice(start.logs.length) : [];
  const results = !start.ok
    ? []
    : Array.from({ length: requests }, (_, i) => {
        if (i > 0 && interval > 0) plugin.advanceTime(interval);
        return { worker: worker ?? i % concurrency, ...plugin.runHttpRequest(spec) };
      });
  const metrics = plugin.metrics().map((m) => ({ ...m, value: jsonNumber(m.value), samples: m.samples.map(jsonNumber) }));
  const sharedData = Object.fromEntries(Object.entries(plugin.sharedDataEntries()).map(([k, v]) => [k, { value: v.text, cas: v.cas }]));
  const ticksSection = ticks > 0 ? { ticks: { ran: ticked, logs: tickLogs } } : {};
  const workers = plugin.workers.map((w) => ({ worker: w.index, failure: w.failure, reloads: w.reloads, logs: w.logs }));
  const report = { start, ...ticksSection, requests: results, workers, metrics, sharedData };
  if (simulateOutput(o, process.stdout.isTTY) === "text") process.stdout.write(formatSimulateReport(report));
  else process.stdout.write(`${JSON.stringify(report, jsonReplacer, 2)}\n`);
  return start.ok ? 0 : 2;
}

/** A metric value as a JSON number when it is exact, else as a string. */
function jsonNumber(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** bigint and raw bytes are not JSON: print numbers as strings and bytes as base64. */
function jsonReplacer(key: string, value: unknown): unknown {
  // headers/trailers already print the same headers as text.
  if (key === "headerBytes" || key === "trailerBytes") return undefined;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("run HTTP requests through a plugin on a host that behaves like Envoy; prints a readable report on a terminal, JSON otherwise")
    .argument("<plugin>", "the plugin's .wasm file")
    .option("--root-id <id>", "root_id of the plugin")
    .option("--vm-id <id>", "vm_id of the VM")
    .option("--config <string>", "plugin configuration")
    .option("--config-file <file>", "plugin configuration from a file")
    .option("--vm-config <string>", "VM configuration")
    .option("--request-header <header>", "'name: value' (repeatable)", collect, [])
    .option("--request-body <chunk>", "one request body callback per chunk (repeatable)", collect, [])
    .option("--request-trailer <header>", "'name: value' (repeatable)", collect, [])
    .option("--response-header <header>", "'name: value' (repeatable)", collect, [])
    .option("--response-body <chunk>", "one response body callback per chunk (repeatable)", collect, [])
    .option("--response-trailer <header>", "'name: value' (repeatable)", collect, [])
    .option("--property <path=value>", "attribute, e.g. source.address=10.0.0.1 (repeatable)", collect, [])
    .option("--requests <n>", "identical requests through the same VM", "1")
    .option("--fail-open", "let streams pass when the VM has failed (the same as --failure-policy FAIL_OPEN)")
    .option("--failure-policy <policy>", "FAIL_CLOSED (default; Istio FAIL_CLOSE), FAIL_OPEN or FAIL_RELOAD")
    .option("--reload-backoff <ms>", "FAIL_RELOAD: the backoff's base interval (Envoy's default 1000)")
    .option("--concurrency <n>", "worker threads: Envoy's base VM, canary, then one VM per worker", "1")
    .option("--worker <k>", "send every request to worker k (default: round-robin)")
    .option("--interval <ms>", "time that passes between requests (ticks and callout timeouts fire; FAIL_RELOAD's backoff)", "0")
    .option("--callback-deadline <ms>", "stop a callback running longer and fail its VM (0: no limit)", String(DEFAULT_CALLBACK_DEADLINE_MS))
    .option("--log-level <level>", "host log level", "info")
    .option("--cluster <name>", "a cluster callouts may target (repeatable; others are BAD_ARGUMENT)", collect, [])
    .option(
      "--http-call-response <spec>",
      "answer to the next callout of a request: status=200,header=name:value,body=REST, or fail, or timeout (repeatable, in order)",
      collect,
      [],
    )
    .option("--tick <n>", "run n ticks after start (on_tick, if the plugin set a period)", "0")
    .option("--json", "print one JSON document even on a terminal (the default when stdout is a pipe or a file)")
    .action((wasmPath: string, options: SimulateOptions) => {
      try {
        process.exitCode = run(wasmPath, options);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        process.exitCode = 1;
      }
    });
}
