// What Istio's WasmPlugin and TrafficExtension share (istio/api extensions/v1alpha1): where the plugin
// goes (selector or targetRefs, phase, priority, match) and what it runs (url, checksum, pull options,
// pluginConfig, failStrategy, vmConfig). Each value is checked before it reaches a cluster that would refuse it.
import { checkName, parseLabels } from "./kubernetes.js";
import type { PulledPluginOptions } from "./plugin-config.js";
import { checkModuleUrl, checkPinned, checkSha256 } from "./urls.js";

export const PHASES = ["AUTHN", "AUTHZ", "STATS"] as const;
export const FAIL_STRATEGIES = ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const;
export const PULL_POLICIES = ["IfNotPresent", "Always"] as const;
export const PLUGIN_TYPES = ["HTTP", "NETWORK"] as const;
export const TRAFFIC_MODES = ["CLIENT", "SERVER", "CLIENT_AND_SERVER"] as const;

const MAX_TARGET_REFS = 16;
const MAX_ENV = 256;
const MAX_ENV_NAME = 256;
const MAX_ENV_VALUE = 2048;
const MAX_PLUGIN_NAME = 256;

export interface IstioWasmOptions extends PulledPluginOptions {
  phase?: string;
  priority?: number;
  failStrategy?: string;
  /** `key=value` pod labels. */
  selector?: string[];
  /** `KIND/NAME`. */
  targetRefs?: string[];
  type?: string;
  /** `MODE`, `MODE:PORT,PORT` or `PORT,PORT`. */
  match?: string[];
  /** `NAME=VALUE`, given to the VM as is (valueFrom INLINE). */
  env?: string[];
  /** Names of the proxy's own environment variables passed to the VM (valueFrom HOST). */
  hostEnv?: string[];
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`bad ${flag} "${value}": one of ${allowed.join(", ")}`);
  return value as T;
}

// Kinds whose API group is not the core one; targetRefs need the group spelled out.
const KIND_GROUPS: Record<string, string> = {
  Gateway: "gateway.networking.k8s.io",
  GatewayClass: "gateway.networking.k8s.io",
  HTTPRoute: "gateway.networking.k8s.io",
  GRPCRoute: "gateway.networking.k8s.io",
  ServiceEntry: "networking.istio.io",
};

/** KIND/NAME, e.g. Gateway/my-gateway or Service/reviews. */
export function parseTargetRef(text: string): { group: string; kind: string; name: string } {
  const match = /^([A-Za-z](?:[-A-Za-z0-9]*[A-Za-z0-9])?)\/(.+)$/.exec(text);
  if (!match || match[1].length > 63) throw new Error(`bad --target-ref "${text}": expected KIND/NAME, e.g. Gateway/my-gateway`);
  return { group: KIND_GROUPS[match[1]] ?? "", kind: match[1], name: checkName("target name", match[2]) };
}

function parsePort(text: string, flag: string, whole: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535) throw new Error(`bad ${flag} "${whole}": ports are 1-65535`);
  return port;
}

/** A traffic selector: `SERVER`, `CLIENT:8080,9090` or just ports `8080`. */
export function parseMatch(text: string): { mode?: string; ports?: { number: number }[] } {
  const colon = text.indexOf(":");
  const portsOnly = colon < 0 && /^[\d,]+$/.test(text);
  const head = colon >= 0 ? text.slice(0, colon) : portsOnly ? "" : text;
  const tail = colon >= 0 ? text.slice(colon + 1) : portsOnly ? text : "";
  const selector: { mode?: string; ports?: { number: number }[] } = {};
  if (head !== "") selector.mode = oneOf("--match mode", head, TRAFFIC_MODES);
  if (tail !== "") {
    const ports = tail.split(",").map((port) => parsePort(port, "--match", text));
    if (new Set(ports).size !== ports.length) throw new Error(`bad --match "${text}": a port is listed twice`);
    selector.ports = ports.map((number) => ({ number }));
  }
  if (!selector.mode && !selector.ports) throw new Error(`bad --match "${text}": expected MODE, MODE:PORT,... or PORT,...`);
  return selector;
}

export interface EnvEntry {
  name: string;
  valueFrom: "INLINE" | "HOST";
  value?: string;
}

function checkEnvName(name: string, flag: string, whole: string): string {
  if (name === "" || name.length > MAX_ENV_NAME || /[=\0]/.test(name)) {
    throw new Error(`bad ${flag} "${whole}": a variable name is 1-${MAX_ENV_NAME} characters without "="`);
  }
  return name;
}

/** --env NAME=VALUE and --host-env NAME as one list; a name may appear once (Envoy refuses a clash). */
export function parseEnv(inline: string[] = [], host: string[] = []): EnvEntry[] {
  const entries: EnvEntry[] = [];
  for (const pair of inline) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new Error(`bad --env "${pair}": expected NAME=VALUE`);
    const value = pair.slice(eq + 1);
    if (value.length > MAX_ENV_VALUE) {
      throw new Error(`bad --env "${pair.slice(0, eq)}=...": a value is at most ${MAX_ENV_VALUE} characters`);
    }
    entries.push({ name: checkEnvName(pair.slice(0, eq), "--env", pair), valueFrom: "INLINE", value });
  }
  for (const name of host) entries.push({ name: checkEnvName(name, "--host-env", name), valueFrom: "HOST" });
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) throw new Error(`environment variable ${name} is given twice`);
    seen.add(name);
  }
  if (entries.length > MAX_ENV) throw new Error(`at most ${MAX_ENV} environment variables`);
  return entries;
}

export interface IstioWasmParts {
  /** Where the plugin applies: selector or targetRefs, phase, priority, match. */
  placement: Record<string, unknown>;
  /** What it runs: url, sha256, pull options, pluginName, failStrategy, type, vmConfig, pluginConfig. */
  module: Record<string, unknown>;
}

export function istioWasmParts(o: IstioWasmOptions): IstioWasmParts {
  const selector = parseLabels(o.selector ?? []);
  const targetRefs = (o.targetRefs ?? []).map(parseTargetRef);
  if (Object.keys(selector).length > 0 && targetRefs.length > 0) {
    throw new Error("use either --selector or --target-ref, not both (Istio accepts only one)");
  }
  if (targetRefs.length > MAX_TARGET_REFS) throw new Error(`at most ${MAX_TARGET_REFS} --target-ref`);
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || Math.abs(o.priority) > 2 ** 31 - 1)) {
    throw new Error(`bad --priority "${o.priority}": a 32-bit whole number`);
  }
  const url = checkModuleUrl(o.url, ["oci", "https", "http", "file"]);
  const sha256 = checkSha256(o.sha256);
  checkPinned(url, sha256);
  if (o.rootId !== undefined && (o.rootId === "" || o.rootId.length > MAX_PLUGIN_NAME)) {
    throw new Error(`bad --root-id "${o.rootId}": 1-${MAX_PLUGIN_NAME} characters`);
  }
  const env = parseEnv(o.env, o.hostEnv);

  const module: Record<string, unknown> = { url: url.url };
  if (sha256) module.sha256 = sha256;
  if (o.pullPolicy) module.imagePullPolicy = oneOf("--pull-policy", o.pullPolicy, PULL_POLICIES);
  if (o.pullSecret) module.imagePullSecret = checkName("--pull-secret", o.pullSecret);
  if (o.rootId) module.pluginName = o.rootId;
  if (o.failStrategy) module.failStrategy = oneOf("--fail-strategy", o.failStrategy, FAIL_STRATEGIES);
  if (o.type) module.type = oneOf("--type", o.type, PLUGIN_TYPES);
  if (env.length > 0) module.vmConfig = { env };
  if (o.pluginConfig && Object.keys(o.pluginConfig).length > 0) module.pluginConfig = o.pluginConfig;

  const placement: Record<string, unknown> = {};
  if (Object.keys(selector).length > 0) placement.selector = { matchLabels: selector };
  if (targetRefs.length > 0) placement.targetRefs = targetRefs;
  if (o.phase) placement.phase = oneOf("--phase", o.phase, PHASES);
  if (o.priority !== undefined) placement.priority = o.priority;
  if (o.match && o.match.length > 0) placement.match = o.match.map(parseMatch);
  return { placement, module };
}
