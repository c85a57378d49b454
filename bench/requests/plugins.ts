// Starting plugins, one request's lifecycle, the behaviour check, and counting host calls without
// touching host/: WebAssembly.Instance is swapped only while a plugin starts, to wrap the imports it is given.
import { createPlugin, type Plugin, type PluginOptions } from "../../host/index.js";
import type { Subject } from "./subjects.js";

export const ALLOWED_TOKEN = "7919"; // prime: the request goes through (and Miller–Rabin runs)
export const DENIED_TOKEN = "7917"; // 3 × 7 × 13 × 29: a 403 local reply
const requestHeaders = (token: string): [string, string][] => [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "localhost"],
  [":scheme", "http"],
  ["user-agent", "bench"],
  ["token", token],
];
export const ALLOWED_REQUEST = requestHeaders(ALLOWED_TOKEN);
export const DENIED_REQUEST = requestHeaders(DENIED_TOKEN);
const RESPONSE_HEADERS: [string, string][] = [
  [":status", "200"],
  ["content-type", "text/plain"],
];
const RESPONSE_BODY = "hello from upstream";

const RealInstance = WebAssembly.Instance;

export interface Started {
  plugin: Plugin;
  error: string | null;
}

export function startPlugin(bytes: Uint8Array, options: PluginOptions, counts?: Map<string, number>): Started {
  if (!counts) return started(createPlugin(bytes, options));
  function Counting(module: WebAssembly.Module, imports?: WebAssembly.Imports): WebAssembly.Instance {
    return new RealInstance(module, imports ? countCalls(imports, counts!) : imports);
  }
  Counting.prototype = RealInstance.prototype;
  (WebAssembly as { Instance: unknown }).Instance = Counting;
  try {
    return started(createPlugin(bytes, options));
  } finally {
    (WebAssembly as { Instance: unknown }).Instance = RealInstance;
  }
}

function started(plugin: Plugin): Started {
  const start = plugin.start();
  return { plugin, error: start.ok ? null : (start.error ?? "start failed") };
}

function countCalls(imports: WebAssembly.Imports, counts: Map<string, number>): WebAssembly.Imports {
  const out: WebAssembly.Imports = {};
  for (const [module, fns] of Object.entries(imports)) {
    const wrapped: Record<string, WebAssembly.ImportValue> = {};
    for (const [name, value] of Object.entries(fns)) {
      if (typeof value !== "function") {
        wrapped[name] = value;
        continue;
      }
      const key = module === "env" ? name : `${module}.${name}`;
      const fn = value as (...args: unknown[]) => unknown;
      wrapped[name] = (...args: unknown[]) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return fn(...args);
      };
    }
    out[module] = wrapped;
  }
  return out;
}

/** A full stream: context create, request headers (eos), response headers, response body (eos), log, done, delete. */
export function lifecycle(plugin: Plugin, request: [string, string][]): void {
  const stream = plugin.newHttpStream();
  stream.sendRequestHeaders(request, true);
  stream.sendResponseHeaders(RESPONSE_HEADERS, false);
  stream.sendResponseBody(RESPONSE_BODY, true);
  stream.complete();
}

/** Checks the filter does the work it claims, so a fast-but-wrong build cannot win. */
export function checkBehaviour(s: Subject, plugin: Plugin): string | null {
  const check = (request: [string, string][]) => {
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders(request, true);
    stream.sendResponseHeaders(RESPONSE_HEADERS, false);
    stream.sendResponseBody(RESPONSE_BODY, true);
    stream.complete();
    return stream.result();
  };
  const allowed = check(ALLOWED_REQUEST);
  const headers = allowed.downstreamResponse?.headers ?? [];
  if (s.filter === "add-header") {
    const hello = headers.filter(([k]) => k === "hello").map(([, v]) => v);
    if (hello.length !== 1 || hello[0] !== "world") return `wrong result: response has hello=${JSON.stringify(hello)}`;
  } else if (s.filter === "prime-authorizer") {
    if (allowed.localResponse) return `wrong result: prime token ${ALLOWED_TOKEN} got ${allowed.localResponse.status}`;
    const denied = check(DENIED_REQUEST);
    if (denied.localResponse?.status !== 403 || denied.localResponse.body !== "Access forbidden.") {
      return `wrong result: token ${DENIED_TOKEN} was not answered 403 "Access forbidden."`;
    }
    const twice = check([...ALLOWED_REQUEST, ["token", ALLOWED_TOKEN]]);
    if (twice.localResponse?.status !== 403) return "wrong result: a duplicated token header was let through";
  } else if (allowed.localResponse || headers.length !== RESPONSE_HEADERS.length) {
    return "wrong result: the empty filter changed the stream";
  }
  return plugin.failed ? "the VM failed during the check" : null;
}
