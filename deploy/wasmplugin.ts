// An Istio WasmPlugin (extensions.istio.io/v1alpha1), the way Istio wants a filter named by url.
import { checkName, metadata, parseLabels } from "./kubernetes.js";
import type { PluginConfig } from "./plugin-config.js";

export const PHASES = ["AUTHN", "AUTHZ", "STATS"] as const;
export const FAIL_STRATEGIES = ["FAIL_CLOSE", "FAIL_OPEN"] as const;
export const PULL_POLICIES = ["IfNotPresent", "Always"] as const;
export const PLUGIN_TYPES = ["HTTP", "NETWORK"] as const;

export interface WasmPluginOptions {
  name: string;
  namespace?: string;
  url: string;
  sha256?: string;
  rootId?: string;
  pluginConfig?: PluginConfig;
  phase?: string;
  priority?: number;
  failStrategy?: string;
  selector?: string[];
  targetRefs?: string[];
  pullPolicy?: string;
  pullSecret?: string;
  type?: string;
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`bad ${flag} "${value}": one of ${allowed.join(", ")}`);
  return value as T;
}

const URL_SCHEMES = ["oci:", "http:", "https:", "file:"];

export function checkUrl(url: string): string {
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw new Error(`bad url "${url}": expected oci://, https://, http:// or file://`);
  }
  if (!URL_SCHEMES.includes(scheme)) throw new Error(`bad url "${url}": the scheme must be oci, https, http or file`);
  return url;
}

export function checkSha256(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const hex = value.startsWith("sha256:") ? value.slice("sha256:".length) : value;
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`bad --sha256 "${value}": 64 lower-case hex digits`);
  return hex;
}

// Kinds whose API group is not the core one; WasmPlugin's targetRefs need the group spelled out.
const KIND_GROUPS: Record<string, string> = {
  Gateway: "gateway.networking.k8s.io",
  GatewayClass: "gateway.networking.k8s.io",
  ServiceEntry: "networking.istio.io",
};

/** KIND/NAME, e.g. Gateway/my-gateway or Service/reviews. */
export function parseTargetRef(text: string): { group: string; kind: string; name: string } {
  const match = /^([A-Za-z][-A-Za-z0-9]*)\/(.+)$/.exec(text);
  if (!match) throw new Error(`bad --target-ref "${text}": expected KIND/NAME, e.g. Gateway/my-gateway`);
  return { group: KIND_GROUPS[match[1]] ?? "", kind: match[1], name: checkName("target name", match[2]) };
}

export function wasmPlugin(o: WasmPluginOptions): Record<string, unknown> {
  const selector = parseLabels(o.selector ?? []);
  const targetRefs = (o.targetRefs ?? []).map(parseTargetRef);
  if (Object.keys(selector).length > 0 && targetRefs.length > 0) {
    throw new Error("use either --selector or --target-ref, not both (Istio accepts only one)");
  }
  if (targetRefs.length > 16) throw new Error("at most 16 --target-ref");
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || Math.abs(o.priority) > 2 ** 31 - 1)) {
    throw new Error(`bad --priority "${o.priority}": a 32-bit whole number`);
  }
  const spec: Record<string, unknown> = { url: checkUrl(o.url) };
  const sha256 = checkSha256(o.sha256);
  if (sha256) spec.sha256 = sha256;
  if (o.pullPolicy) spec.imagePullPolicy = oneOf("--pull-policy", o.pullPolicy, PULL_POLICIES);
  if (o.pullSecret) spec.imagePullSecret = checkName("--pull-secret", o.pullSecret);
  if (o.rootId) spec.pluginName = o.rootId;
  if (o.phase) spec.phase = oneOf("--phase", o.phase, PHASES);
  if (o.priority !== undefined) spec.priority = o.priority;
  if (o.failStrategy) spec.failStrategy = oneOf("--fail-strategy", o.failStrategy, FAIL_STRATEGIES);
  if (o.type) spec.type = oneOf("--type", o.type, PLUGIN_TYPES);
  if (Object.keys(selector).length > 0) spec.selector = { matchLabels: selector };
  if (targetRefs.length > 0) spec.targetRefs = targetRefs;
  if (o.pluginConfig && Object.keys(o.pluginConfig).length > 0) spec.pluginConfig = o.pluginConfig;
  return { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: metadata(o.name, o.namespace), spec };
}
