// The retired ways of deploying a filter — the wasme operator's FilterDeployment (wasme.io/v1) and
// Maistra's ServiceMeshExtension (maistra.io/v1 and v1alpha1) — read into the options of an Istio
// WasmPlugin or TrafficExtension. Whatever has no equivalent becomes a note instead of being dropped silently.
import type { IstioWasmOptions } from "./istio-wasm.js";
import { isPlainObject, type PluginConfig } from "./plugin-config.js";

export type Doc = Record<string, any>;
export type Note = (message: string) => void;

// Maistra's phases sit around Istio's own filters; Istio's phase says which of them the plugin goes
// before. PostStats, after the stats filter, is where Istio puts a plugin with no phase.
export const MAISTRA_PHASES: Record<string, string | undefined> = {
  PreAuthN: "AUTHN",
  PostAuthN: "AUTHZ",
  PreAuthZ: "AUTHZ",
  PostAuthZ: "STATS",
  PreStats: "STATS",
  PostStats: undefined,
};

const ANY_STRING = "type.googleapis.com/google.protobuf.StringValue";
const ANY_BYTES = "type.googleapis.com/google.protobuf.BytesValue";
const ANY_STRUCT = "type.googleapis.com/google.protobuf.Struct";

/** pluginConfig reaches the filter as JSON text, so a string config survives only if it is a JSON object. */
function configFromString(text: string, kind: string, note: Note): PluginConfig | undefined {
  if (text === "") return undefined;
  try {
    const value = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch {
    // not JSON: handled below
  }
  note(
    `its config is the plain string ${JSON.stringify(text)}, but a ${kind} passes a JSON object; ` +
      `it becomes pluginConfig {"value": ...}, so the filter now reads ${JSON.stringify(JSON.stringify({ value: text }))} and must be changed to match`,
  );
  return { value: text };
}

function convertConfig(config: unknown, kind: string, note: Note): PluginConfig | undefined {
  if (config === undefined || config === null) return undefined;
  if (typeof config === "string") return configFromString(config, kind, note);
  if (!isPlainObject(config)) {
    note(`its config ${JSON.stringify(config)} is not an object; left out`);
    return undefined;
  }
  const type = config["@type"];
  if (type === undefined) return config;
  if (type === ANY_STRING && typeof config.value === "string") return configFromString(config.value, kind, note);
  if (type === ANY_BYTES && typeof config.value === "string") {
    return configFromString(Buffer.from(config.value, "base64").toString("utf8"), kind, note);
  }
  if (type === ANY_STRUCT && isPlainObject(config.value)) return config.value;
  note(`its config is a ${String(type)}, which ${kind} cannot carry; left out`);
  return undefined;
}

function ociUrl(image: unknown): string {
  if (typeof image !== "string" || image === "") throw new Error("it has no image");
  return /^[a-z]+:\/\//.test(image) ? image : `oci://${image}`;
}

function labelsOf(value: unknown): string[] {
  return isPlainObject(value) ? Object.entries(value).map(([key, v]) => `${key}=${String(v)}`) : [];
}

export function fromFilterDeployment(doc: Doc, kind: string, note: Note): IstioWasmOptions {
  const filter: Doc = doc.spec?.filter ?? {};
  const istio: Doc = doc.spec?.deployment?.istio ?? {};
  const pull: Doc = filter.imagePullOptions ?? {};
  if (filter.id && filter.id !== doc.metadata?.name) note(`filter.id "${filter.id}" is not kept; the ${kind} is named after metadata.name`);
  if (String(filter.image ?? "").startsWith("webassemblyhub.io/")) {
    note("webassemblyhub.io no longer serves images: push the module to your own registry and change the url");
  }
  if (pull.pullSecret) {
    note(`imagePullSecret "${pull.pullSecret}" must now be a kubernetes.io/dockerconfigjson secret, not username/password keys`);
  }
  if (pull.insecureSkipVerify || pull.plainHttp) {
    note(`imagePullOptions.insecureSkipVerify/plainHttp have no ${kind} field; list the registry in istio-proxy's WASM_INSECURE_REGISTRIES`);
  }
  if (istio.kind) note(`deployment.istio.kind "${istio.kind}" is dropped: a ${kind} selects pods by label whatever owns them`);
  if (istio.istioNamespace && istio.istioNamespace !== "istio-system") {
    note(`deployment.istio.istioNamespace "${istio.istioNamespace}" has no ${kind} equivalent`);
  }
  const context = filter.patchContext ?? "inbound";
  const mode = ({ inbound: "SERVER", outbound: "CLIENT" } as Record<string, string>)[context];
  if (!mode) note(`patchContext "${context}" has no traffic mode in ${kind}; select the gateway's pods by label instead`);
  return {
    name: doc.metadata?.name,
    namespace: doc.metadata?.namespace,
    url: ociUrl(filter.image),
    rootId: filter.rootID || undefined,
    pluginConfig: convertConfig(filter.config, kind, note),
    selector: labelsOf(istio.labels),
    pullSecret: pull.pullSecret || undefined,
    match: mode ? [mode] : undefined,
  };
}

const SME_FIELDS = new Set(["image", "config", "phase", "priority", "workloadSelector", "rootID"]);

export function fromServiceMeshExtension(doc: Doc, kind: string, note: Note): IstioWasmOptions {
  const spec: Doc = doc.spec ?? {};
  for (const key of Object.keys(spec)) if (!SME_FIELDS.has(key)) note(`spec.${key} has no ${kind} equivalent; dropped`);
  note(
    "Maistra extension images hold manifest.yaml and extension.wasm; Istio looks for plugin.wasm: " +
      "re-package the module with `proxy-wasm-as push` before applying",
  );
  let phase: string | undefined;
  if (spec.phase !== undefined) {
    if (!(spec.phase in MAISTRA_PHASES)) throw new Error(`its phase "${spec.phase}" is not one of ${Object.keys(MAISTRA_PHASES).join(", ")}`);
    phase = MAISTRA_PHASES[spec.phase];
    if (!phase) note(`phase PostStats has no ${kind} phase; leaving it unset puts the plugin last, after stats, as before`);
  }
  return {
    name: doc.metadata?.name,
    namespace: doc.metadata?.namespace,
    url: ociUrl(spec.image),
    rootId: spec.rootID || undefined,
    pluginConfig: convertConfig(spec.config, kind, note),
    phase,
    priority: spec.priority ?? undefined,
    selector: labelsOf(spec.workloadSelector?.labels),
  };
}
