// Loading a plugin as Envoy does when its configuration arrives: read and check the module
// (cpp-host's load checks), check the options (failure policy, concurrency, deadline), compile
// once, then start the VMs (plugin-workers.ts). Every problem is the error Envoy would report,
// logged, never thrown.

import { readFileSync } from "node:fs";
import { LOG_LEVELS } from "./abi/enums.js";
import { toBytes } from "./abi/pairs.js";
import type { AbiVersion } from "./abi/signatures.js";
import type { HostClock } from "./clock.js";
import type { PluginIdentity } from "./context.js";
import { defaultCallbackDeadlineMs } from "./deadline.js";
import { failurePolicy, type FailurePolicy } from "./failure-policy.js";
import { checkModule } from "./module.js";
import type { PluginOptions } from "./plugin-options.js";
import { Workers } from "./plugin-workers.js";
import { encodeProperties } from "./properties.js";
import type { LogEntry } from "./results.js";
import type { ForeignFunction } from "./vm.js";
import { parseModule } from "./wasm-binary.js";
import { reportFailure } from "./debug/report-failure.js";
import { ModuleDebugInfo } from "./debug/trap-location.js";
import { waitForDebuggerOnce } from "./debug/inspect.js";

/** A started plugin's VMs and policy (also when a VM's start-up failed: `error` says why). */
export interface LoadedPlugin {
  fleet: Workers | null;
  policy: FailurePolicy | null;
  /** The error Envoy would report, or null when the plugin is running. */
  error: string | null;
}

export function loadPlugin(
  wasm: Uint8Array | string,
  options: PluginOptions,
  logs: LogEntry[],
  clock: HostClock,
  foreign: ReadonlyMap<string, ForeignFunction>,
): LoadedPlugin {
  const level = LOG_LEVELS.indexOf(options.logLevel ?? "info");
  const logError = (message: string) => {
    if (level <= 4) logs.push({ level: "error", message });
  };
  const failed = (message: string): LoadedPlugin => {
    logError(message);
    return { fleet: null, policy: null, error: message };
  };
  let bytes: Uint8Array;
  try {
    bytes = typeof wasm === "string" ? readFileSync(wasm) : wasm;
  } catch (e) {
    return failed(`Failed to read Wasm file: ${(e as Error).message}`);
  }
  const check = checkModule(bytes);
  if (!check.ok) {
    check.problems.forEach(logError);
    return { fleet: null, policy: null, error: check.problems[0] };
  }
  const identity: PluginIdentity = {
    name: options.name ?? "",
    rootId: options.rootId ?? "",
    vmId: options.vmId ?? "",
    configuration: toBytes(options.configuration ?? ""),
    properties: encodeProperties(options.properties),
  };
  const policy = failurePolicy(options);
  if (typeof policy === "string") return failed(policy);
  const concurrency = options.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    return failed(`bad concurrency ${concurrency}: a whole number of worker threads, at least 1`);
  }
  const deadlineMs = options.callbackDeadlineMs ?? defaultCallbackDeadlineMs();
  if (!(Number.isInteger(deadlineMs) && deadlineMs >= 0)) return failed(`bad callbackDeadlineMs ${deadlineMs}: whole milliseconds, 0 for none`);
  const debugInfo = ModuleDebugInfo.load(bytes, { wasmPath: typeof wasm === "string" ? wasm : undefined, sourceMapPath: options.sourceMap });
  const module = new WebAssembly.Module(debugInfo.compiledBytes(bytes) as Uint8Array<ArrayBuffer>);
  if (debugInfo.sourceMapPath !== null) waitForDebuggerOnce();
  const fleet = new Workers(
    {
      module,
      parsed: parseModule(bytes),
      abi: check.abiVersion as AbiVersion,
      identity,
      vmConfiguration: toBytes(options.vmConfiguration ?? ""),
      logLevel: level < 0 ? 2 : level,
      environment: options.environment ?? {},
      clusters: options.clusters,
      clock,
      foreign,
      callbackDeadlineMs: deadlineMs,
      debugInfo,
      onFailure: options.reportFailures === false ? undefined : reportFailure,
    },
    policy,
    logs,
  );
  return { fleet, policy, error: fleet.start(concurrency, options.callerManagesVms === true) };
}
