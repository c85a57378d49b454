// An Envoy Gateway EnvoyExtensionPolicy (gateway.envoyproxy.io/v1alpha1) running one Wasm extension
// on Gateway API targets. Envoy Gateway fetches the module itself: an OCI image (code type Image,
// pulled with an optional kubernetes.io/dockerconfigjson secret) or an http(s) url (type HTTP), and
// serves it to Envoy pinned by its checksum. The config reaches the filter as JSON text.
import { checkName, metadata } from "./kubernetes.js";
import { oneOf, parseEnv, PULL_POLICIES } from "./istio-wasm.js";
import type { PulledPluginOptions } from "./plugin-config.js";
import { checkModuleUrl, checkPinned, checkSha256 } from "./urls.js";

// The kinds the policy may target, all in the Gateway API group (the CRD's CEL rules).
export const TARGET_KINDS = ["Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "TCPRoute", "UDPRoute", "TLSRoute"] as const;
const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
const MAX_TARGET_REFS = 16;

export interface EnvoyExtensionPolicyOptions extends PulledPluginOptions {
  failOpen?: boolean;
  /** `KIND/NAME` or `KIND/NAME:SECTION` (a listener, a route rule or a port name). */
  targetRefs: string[];
  /** The proxy's own variables passed to the VM: Envoy Gateway has no inline values. */
  hostEnv?: string[];
}

/** KIND/NAME[:SECTION], e.g. Gateway/eg, Gateway/eg:http or HTTPRoute/backend. */
export function parsePolicyTarget(text: string): Record<string, string> {
  const match = /^([A-Za-z]+)\/([^:]+)(?::(.+))?$/.exec(text);
  if (!match) throw new Error(`bad --target-ref "${text}": expected KIND/NAME or KIND/NAME:SECTION, e.g. Gateway/eg`);
  const kind = oneOf("--target-ref kind", match[1], TARGET_KINDS) as string;
  const ref: Record<string, string> = { group: GATEWAY_API_GROUP, kind, name: checkName("target name", match[2]) };
  if (match[3] !== undefined) ref.sectionName = checkName("section name", match[3]);
  return ref;
}

function code(o: EnvoyExtensionPolicyOptions): Record<string, unknown> {
  const url = checkModuleUrl(o.url, ["oci", "https", "http"]);
  const sha256 = checkSha256(o.sha256);
  checkPinned(url, sha256);
  const source: Record<string, unknown> = {};
  const result: Record<string, unknown> = {};
  if (url.scheme === "oci") {
    // The API documents REGISTRY/IMAGE:TAG; Envoy Gateway adds oci:// itself.
    source.url = url.reference;
    if (sha256) source.sha256 = sha256;
    if (o.pullSecret) source.pullSecretRef = { kind: "Secret", name: checkName("--pull-secret", o.pullSecret) };
    Object.assign(result, { type: "Image", image: source });
  } else {
    if (o.pullSecret) throw new Error("--pull-secret applies to oci:// images only");
    source.url = url.url;
    if (sha256) source.sha256 = sha256;
    Object.assign(result, { type: "HTTP", http: source });
  }
  if (o.pullPolicy) result.pullPolicy = oneOf("--pull-policy", o.pullPolicy, PULL_POLICIES);
  return result;
}

export function envoyExtensionPolicy(o: EnvoyExtensionPolicyOptions): Record<string, unknown> {
  if (o.targetRefs.length === 0) throw new Error("give at least one --target-ref (Gateway/NAME, HTTPRoute/NAME, ...)");
  if (o.targetRefs.length > MAX_TARGET_REFS) throw new Error(`at most ${MAX_TARGET_REFS} --target-ref`);
  const hostKeys = parseEnv([], o.hostEnv).map((entry) => entry.name);
  const wasm: Record<string, unknown> = { name: o.name };
  if (o.rootId) wasm.rootID = o.rootId;
  wasm.code = code(o);
  if (o.pluginConfig && Object.keys(o.pluginConfig).length > 0) wasm.config = o.pluginConfig;
  if (o.failOpen) wasm.failOpen = true;
  if (hostKeys.length > 0) wasm.env = { hostKeys };
  return {
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "EnvoyExtensionPolicy",
    metadata: metadata(o.name, o.namespace),
    spec: { targetRefs: o.targetRefs.map(parsePolicyTarget), wasm: [wasm] },
  };
}
