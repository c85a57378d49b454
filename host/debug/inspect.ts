// Node's inspector for `test --inspect` and `run --inspect`: a debugger attached to node (VS Code, Chrome DevTools)
// sees each module with its source map (trap-location.ts compiledBytes), so breakpoints go in assembly/index.ts.

import inspector from "node:inspector";

/** Set by `test --inspect` for the test processes: wait for the debugger once the first filter is compiled. */
export const WAIT_FOR_DEBUGGER_ENV = "PROXY_WASM_AS_WAIT_FOR_DEBUGGER";

let waited = false;

/**
 * Called once a module with a source map is compiled: under `test --inspect`, the first one in a process waits
 * until a debugger attaches (its breakpoints resolve against the module's source now), then the test goes on.
 */
export function waitForDebuggerOnce(): void {
  if (waited || !process.env[WAIT_FOR_DEBUGGER_ENV] || inspector.url() === undefined) return;
  waited = true;
  process.stderr.write(`proxy-wasm-as: the filter is loaded; waiting for a debugger on ${inspector.url()}\n`);
  inspector.waitForDebugger();
}

/** "[host:]port" (default 127.0.0.1:9229) as node's --inspect takes it; throws on a bad port. */
export function inspectAddress(spec: string | true): { host: string; port: number } {
  const text = spec === true ? "" : spec;
  const colon = text.lastIndexOf(":");
  const host = colon >= 0 ? text.slice(0, colon) || "127.0.0.1" : "127.0.0.1";
  const portText = colon >= 0 ? text.slice(colon + 1) : text;
  const port = portText === "" ? 9229 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --inspect '${text}': [host:]port, e.g. 9229 or 127.0.0.1:9229`);
  return { host, port };
}

/** Opens the inspector in this process (run --inspect); returns its WebSocket URL. */
export function openInspector(spec: string | true): string {
  const { host, port } = inspectAddress(spec);
  // Already open: node was started with --inspect, or VS Code launched it.
  if (inspector.url() === undefined) inspector.open(port, host, false);
  return inspector.url() ?? `ws://${host}:${port}`;
}
