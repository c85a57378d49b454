// Turns the retired ways of deploying a filter — the wasme operator's FilterDeployment (wasme.io/v1)
// and Maistra's ServiceMeshExtension (maistra.io/v1 and v1alpha1) — into Istio WasmPlugins.
// Whatever has no WasmPlugin equivalent becomes a note for the user instead of being dropped silently.
import { parseAllDocuments } from "yaml";
import { isPlainObject, type PluginConfig } from "./plugin-config.js";
import { wasmPlugin } from "./wasmplugin.js";

export interface Migration {
  plugins: Record<string, unknown>[];
  notes: string[];
}

type Doc = Record<string, any>;

// Maistra's phases sit around Istio's own filters; WasmPlugin's phase says which of them the plugin
// goes before. PostStats, after the stats filter, is where Istio puts a plugin with no phase.
const PHASES: Record<string, string | undefined> = {
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
function configFromString(text: string, note: (message: string) => void): PluginConfig | undefined {
  if (text === "") return undefined;
  try {
    const value = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch {
    // not JSON: handled below
  }
  note(
    `its config is the plain string ${JSON.stringify(text)}, but a WasmPlugin passes a JSON object; ` +
      `it becomes pluginConfig {"value": ...}, so the filter now reads ${JSON.stringify(JSON.stringify({ value: text }))} and must be changed to match`,
  );
  return { value: text };
}

function convertConfig(config: unknown, note: (message: string) => void): PluginConfig | undefined {
  if (config === undefined || config === null) return undefined;
  if (typeof config === "string") return configFromString(config, note);
  if (!isPlainObject(config)) {
    note(`its config ${JSON.stringify(config)} is not an object; left out`);
    return undefined;
  }
  const type = config["@type"];
  if (type === undefined) return config;
  if (type === ANY_STRING && typeof config.value === "string") return configFromString(config.value, note);
  if (type === ANY_BYTES && typeof config.value === "string") {
    return configFromString(Buffer.from(config.value, "base64").toString("utf8"), note);
  }
  if (type === ANY_STRUCT && isPlainObject(config.value)) return config.value;
  note(`its config is a ${String(type)}, which WasmPlugin cannot carry; left out`);
  return undefined;
}

function ociUrl(image: unknown): string {
  if (typeof image !== "string" || image === "") throw new Error("it has no image");
  return /^[a-z]+:\/\//.test(image) ? image : `oci://${image}`;
}

function labelsOf(value: unknown): string[] {
  return isPlainObject(value) ? Object.entries(value).map(([key, v]) => `${key}=${String(v)}`) : [];
}

function fromFilterDeployment(doc: Doc, note: (message: string) => void): Record<string, unknown> {
  const filter: Doc = doc.spec?.filter ?? {};
  const istio: Doc = doc.spec?.deployment?.istio ?? {};
  const pull: Doc = filter.imagePullOptions ?? {};
  if (filter.id && filter.id !== doc.metadata?.name) note(`filter.id "${filter.id}" is not kept; the WasmPlugin is named after metadata.name`);
  if (String(filter.image ?? "").startsWith("webassemblyhub.io/")) {
    note("webassemblyhub.io no longer serves images: push the module to your own registry and change the url");
  }
  if (pull.pullSecret) {
    note(`imagePullSecret "${pull.pullSecret}" must now be a kubernetes.io/dockerconfigjson secret, not username/password keys`);
  }
  if (pull.insecureSkipVerify || pull.plainHttp) {
    note("imagePullOptions.insecureSkipVerify/plainHttp have no WasmPlugin field; list the registry in istio-proxy's WASM_INSECURE_REGISTRIES");
  }
  if (istio.kind) note(`deployment.istio.kind "${istio.kind}" is dropped: a WasmPlugin selects pods by label whatever owns them`);
  if (istio.istioNamespace && istio.istioNamespace !== "istio-system") {
    note(`deployment.istio.istioNamespace "${istio.istioNamespace}" has no WasmPlugin equivalent`);
  }
  const plugin = wasmPlugin({
    name: doc.metadata?.name,
    namespace: doc.metadata?.namespace,
    url: ociUrl(filter.image),
    rootId: filter.rootID || undefined,
    pluginConfig: convertConfig(filter.config, note),
    selector: labelsOf(istio.labels),
    pullSecret: pull.pullSecret || undefined,
  });
  const context = filter.patchContext ?? "inbound";
  const mode = ({ inbound: "SERVER", outbound: "CLIENT" } as Record<string, string>)[context];
  if (mode) (plugin.spec as Doc).match = [{ mode }];
  else note(`patchContext "${context}" has no traffic mode in WasmPlugin; select the gateway's pods by label instead`);
  return plugin;
}

const SME_FIELDS = new Set(["image", "config", "phase", "priority", "workloadSelector", "rootID"]);

function fromServiceMeshExtension(doc: Doc, note: (message: string) => void): Record<string, unknown> {
  const spec: Doc = doc.spec ?? {};
  for (const key of Object.keys(spec)) if (!SME_FIELDS.has(key)) note(`spec.${key} has no WasmPlugin equivalent; dropped`);
  note(
    "Maistra extension images hold manifest.yaml and extension.wasm; Istio looks for plugin.wasm: " +
      "re-package the module with `proxy-wasm-as push` before applying",
  );
  let phase: string | undefined;
  if (spec.phase !== undefined) {
    if (!(spec.phase in PHASES)) throw new Error(`its phase "${spec.phase}" is not one of ${Object.keys(PHASES).join(", ")}`);
    phase = PHASES[spec.phase];
    if (!phase) note("phase PostStats has no WasmPlugin phase; leaving it unset puts the plugin last, after stats, as before");
  }
  return wasmPlugin({
    name: doc.metadata?.name,
    namespace: doc.metadata?.namespace,
    url: ociUrl(spec.image),
    rootId: spec.rootID || undefined,
    pluginConfig: convertConfig(spec.config, note),
    phase,
    priority: spec.priority ?? undefined,
    selector: labelsOf(spec.workloadSelector?.labels),
  });
}

/** Converts every FilterDeployment and ServiceMeshExtension in a (multi-document) YAML text. */
export function migrate(text: string, source: string): Migration {
  const plugins: Record<string, unknown>[] = [];
  const notes: string[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) throw new Error(`${source}: document ${index + 1}: ${document.errors[0].message.split("\n")[0]}`);
    const doc = document.toJS() as Doc | null;
    if (doc === null || doc === undefined) return;
    const label = `${source}: ${doc.kind ?? "document"} ${doc.metadata?.name ?? `#${index + 1}`}`;
    const note = (message: string) => notes.push(`${label}: ${message}`);
    const group = String(doc.apiVersion ?? "").split("/")[0];
    try {
      if (doc.kind === "FilterDeployment" && group === "wasme.io") plugins.push(fromFilterDeployment(doc, note));
      else if (doc.kind === "ServiceMeshExtension" && group === "maistra.io") plugins.push(fromServiceMeshExtension(doc, note));
      else note(`not a wasme FilterDeployment or Maistra ServiceMeshExtension (${doc.apiVersion}); skipped`);
    } catch (error) {
      throw new Error(`${label}: ${(error as Error).message}`);
    }
  });
  if (plugins.length === 0) throw new Error(`${source} holds no FilterDeployment or ServiceMeshExtension`);
  return { plugins, notes };
}
