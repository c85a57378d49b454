// `migrate`: wasme FilterDeployments and Maistra ServiceMeshExtensions into Istio WasmPlugins or
// TrafficExtensions, and WasmPlugins into TrafficExtensions (the resource Istio 1.30 translates every
// WasmPlugin into). Whatever has no equivalent becomes a note for the user instead of being dropped silently.
import { parseAllDocuments } from "yaml";
import { fromFilterDeployment, fromServiceMeshExtension, type Doc, type Note } from "./migrate-legacy.js";
import { isPlainObject } from "./plugin-config.js";
import { trafficExtension } from "./trafficextension.js";
import { wasmPlugin } from "./wasmplugin.js";

export const MIGRATION_TARGETS = ["WasmPlugin", "TrafficExtension"] as const;
export type MigrationTarget = (typeof MIGRATION_TARGETS)[number];

export interface Migration {
  resources: Record<string, unknown>[];
  notes: string[];
}

// WasmPlugin's spec split the way TrafficExtension lays it out.
const PLACEMENT_FIELDS = ["selector", "targetRefs", "phase", "priority", "match"];
const MODULE_FIELDS = [
  "url", "sha256", "imagePullPolicy", "imagePullSecret", "pluginConfig", "pluginName",
  "type", "failStrategy", "vmConfig", "verificationKey",
];
// Written by kubectl or the API server; a new resource must not carry them.
const SERVER_METADATA = ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"];
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function carriedMetadata(metadata: Doc | undefined): Doc {
  const result: Doc = {};
  for (const [key, value] of Object.entries(metadata ?? {})) if (!SERVER_METADATA.includes(key)) result[key] = value;
  if (isPlainObject(result.annotations)) {
    const { [LAST_APPLIED]: _dropped, ...annotations } = result.annotations;
    if (Object.keys(annotations).length > 0) result.annotations = annotations;
    else delete result.annotations;
  }
  return result;
}

function fromWasmPlugin(doc: Doc, note: Note): Record<string, unknown> {
  const spec: Doc = doc.spec ?? {};
  if (typeof spec.url !== "string" || spec.url === "") throw new Error("it has no spec.url");
  const placement: Doc = {};
  const wasm: Doc = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === "targetRef") placement.targetRefs = [value];
    else if (key === "phase" && value === "UNSPECIFIED_PHASE") continue;
    else if (PLACEMENT_FIELDS.includes(key)) placement[key] = value;
    else if (MODULE_FIELDS.includes(key)) wasm[key] = value;
    else note(`spec.${key} has no TrafficExtension equivalent; dropped`);
  }
  note("delete the WasmPlugin once the TrafficExtension is applied: with both, the filter runs twice");
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "TrafficExtension",
    metadata: carriedMetadata(doc.metadata),
    spec: { ...placement, wasm },
  };
}

function convert(doc: Doc, target: MigrationTarget, note: Note): Record<string, unknown> | undefined {
  const group = String(doc.apiVersion ?? "").split("/")[0];
  const build = target === "WasmPlugin" ? wasmPlugin : trafficExtension;
  if (doc.kind === "FilterDeployment" && group === "wasme.io") return build(fromFilterDeployment(doc, target, note));
  if (doc.kind === "ServiceMeshExtension" && group === "maistra.io") return build(fromServiceMeshExtension(doc, target, note));
  if (doc.kind === "WasmPlugin" && group === "extensions.istio.io") {
    if (target === "TrafficExtension") return fromWasmPlugin(doc, note);
    note("already a WasmPlugin; skipped (--to TrafficExtension converts it)");
    return undefined;
  }
  note(`not a wasme FilterDeployment, Maistra ServiceMeshExtension or Istio WasmPlugin (${doc.apiVersion}); skipped`);
  return undefined;
}

/** Converts every convertible document of a (multi-document) YAML text into `target` resources. */
export function migrate(text: string, source: string, target: MigrationTarget = "WasmPlugin"): Migration {
  const resources: Record<string, unknown>[] = [];
  const notes: string[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) throw new Error(`${source}: document ${index + 1}: ${document.errors[0].message.split("\n")[0]}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    if (!isPlainObject(value)) throw new Error(`${source}: document ${index + 1} is not a Kubernetes resource`);
    const doc = value as Doc;
    const label = `${source}: ${doc.kind ?? "document"} ${doc.metadata?.name ?? `#${index + 1}`}`;
    const note = (message: string) => notes.push(`${label}: ${message}`);
    try {
      const resource = convert(doc, target, note);
      if (resource) resources.push(resource);
    } catch (error) {
      throw new Error(`${label}: ${(error as Error).message}`);
    }
  });
  if (resources.length === 0) throw new Error(`${source} holds nothing to turn into a ${target}`);
  return { resources, notes };
}
