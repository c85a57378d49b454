// Validates generated resources against Istio's own CRD schemas from ../shared/schemas/istio/
// (spec.versions[].schema.openAPIV3Schema). Tests skip with `schemasUnavailable` when the folder is absent.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !readFileSync(join(dir, "package.json"), "utf8").includes('"name": "proxy-wasm-as"')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root");
    dir = parent;
  }
  return dir;
}

export const SCHEMA_DIR = join(repoRoot(), "..", "shared", "schemas", "istio");

export const schemasUnavailable = existsSync(SCHEMA_DIR) ? false : `Istio CRD schemas not found at ${SCHEMA_DIR}`;

const CRDS: Record<string, string> = {
  WasmPlugin: "wasmplugins.extensions.istio.io.yaml",
  EnvoyFilter: "envoyfilters.networking.istio.io.yaml",
};

// ajv runs the OpenAPI part; Kubernetes' x-kubernetes-* keywords are annotations to it, and the
// CEL rules are checked by hand below for the ones our generators could break.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
ajv.addFormat("date-time", () => true);

const validators = new Map<string, { apiVersion: string; validate: ValidateFunction }>();

function validatorFor(kind: string) {
  let entry = validators.get(kind);
  if (!entry) {
    const file = CRDS[kind];
    if (!file) throw new Error(`no Istio CRD for kind ${kind}`);
    const crd = parse(readFileSync(join(SCHEMA_DIR, file), "utf8"));
    const version = crd.spec.versions.find((v: { storage?: boolean }) => v.storage) ?? crd.spec.versions[0];
    entry = { apiVersion: `${crd.spec.group}/${version.name}`, validate: ajv.compile(version.schema.openAPIV3Schema) };
    validators.set(kind, entry);
  }
  return entry;
}

function celChecks(resource: any): string[] {
  const spec = resource.spec ?? {};
  const problems: string[] = [];
  const count = (...keys: string[]) => keys.filter((key) => spec[key] !== undefined).length;
  if (resource.kind === "WasmPlugin") {
    if (count("selector", "targetRef", "targetRefs") > 1) problems.push("only one of targetRefs or selector can be set");
    if (!/^(oci|https?|file):\/\//.test(spec.url ?? "") && /^[a-z]+:/.test(spec.url ?? "")) problems.push("url scheme");
    for (const [key, value] of Object.entries(spec.selector?.matchLabels ?? {})) {
      if (key.includes("*") || String(value).includes("*")) problems.push("wildcard in selector");
    }
  }
  if (resource.kind === "EnvoyFilter" && count("workloadSelector", "targetRefs") > 1) {
    problems.push("only one of targetRefs or workloadSelector can be set");
  }
  return problems;
}

/** The schema errors for a generated resource; empty when Istio's API server would accept it. */
export function istioSchemaErrors(resource: any): string[] {
  const { apiVersion, validate } = validatorFor(resource.kind);
  const problems: string[] = [];
  if (resource.apiVersion !== apiVersion) problems.push(`apiVersion ${resource.apiVersion}, expected ${apiVersion}`);
  if (!resource.metadata?.name) problems.push("metadata.name missing");
  if (!validate(resource)) {
    problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`));
  }
  return [...problems, ...celChecks(resource)];
}
