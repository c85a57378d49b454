// Validates generated resources the way a Kubernetes API server (and `kubectl apply`'s strict field
// validation) would, against the CRDs in ../shared/schemas/ (istio/ and envoy-gateway/, unchanged from
// upstream): schema defaults applied first, then the openAPIV3Schema with ajv, unknown fields, list-type
// map/set uniqueness, and the CEL rules (x-kubernetes-validations) wherever the CRD attaches them.
// Each CEL rule is implemented below as code, keyed by the rule's own text: a rule we have not
// implemented, or one upstream has changed, is reported instead of passing silently.
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { basename, dirname, join, resolve } from "node:path";
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

// ../shared/schemas next to the repository; a git worktree also looks next to its main checkout.
// PROXY_WASM_AS_CRD_SCHEMAS names another folder.
function schemaRoot(): string {
  if (process.env.PROXY_WASM_AS_CRD_SCHEMAS) return resolve(process.env.PROXY_WASM_AS_CRD_SCHEMAS);
  const root = repoRoot();
  const candidates = [join(root, "..", "shared", "schemas")];
  const git = spawnSync("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: root, encoding: "utf8" });
  const commonDir = git.status === 0 ? git.stdout.trim() : "";
  if (basename(commonDir) === ".git") candidates.push(join(dirname(commonDir), "..", "shared", "schemas"));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0];
}

export const SCHEMA_ROOT = schemaRoot();

const CRDS: Record<string, string> = {
  WasmPlugin: "istio/wasmplugins.extensions.istio.io.yaml",
  TrafficExtension: "istio/trafficextensions.extensions.istio.io.yaml",
  EnvoyFilter: "istio/envoyfilters.networking.istio.io.yaml",
  EnvoyExtensionPolicy: "envoy-gateway/envoyextensionpolicies.gateway.envoyproxy.io.yaml",
};

const missing = Object.values(CRDS).filter((file) => !existsSync(join(SCHEMA_ROOT, file)));
/** For `{ skip: schemasUnavailable }`: false, or why the schema tests cannot run. */
export const schemasUnavailable = missing.length === 0 ? false : `CRD schemas not found: ${missing.map((file) => join(SCHEMA_ROOT, file)).join(", ")}`;

type Schema = Record<string, any>;
type Check = (self: any) => boolean;

const has = (object: any, key: string) => object !== null && typeof object === "object" && object[key] !== undefined;

// Kubernetes' CEL isURL/url(): Go's url.ParseRequestURI. It refuses control characters and characters
// that are invalid in a host; it accepts an absolute path (scheme ""); getScheme() is lower-cased.
function celUrlScheme(text: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(text)) return undefined;
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(text);
  if (!match) return text.startsWith("/") ? "" : undefined;
  if (match[2].startsWith("//")) {
    const host = match[2].slice(2).split(/[/?#]/)[0].split("@").pop() ?? "";
    if (/[ <>"{}|\\^`]/.test(host)) return undefined;
  }
  return match[1].toLowerCase();
}

function urlRule(schemes: string[]): Check {
  return (self: string) => {
    const scheme = celUrlScheme(self);
    if (scheme !== undefined) return schemes.includes(scheme);
    const prefixed = celUrlScheme(`http://${self}`);
    return prefixed !== undefined && schemes.includes(prefixed);
  };
}

const ROUTE_KINDS = ["HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];
const POLICY_KINDS = ["Gateway", "ListenerSet", ...ROUTE_KINDS];
const GATEWAY_GROUP = "gateway.networking.k8s.io";
const count = (self: any, ...keys: string[]) => keys.filter((key) => has(self, key)).length;

// rule text (whitespace collapsed) -> its implementation.
const CEL_RULES: Record<string, Check> = {
  // Istio WasmPlugin, TrafficExtension, EnvoyFilter
  '(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1': (self) =>
    count(self, "selector", "targetRef", "targetRefs") <= 1,
  "(has(self.selector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) => count(self, "selector", "targetRefs") <= 1,
  "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) => count(self, "workloadSelector", "targetRefs") <= 1,
  "has(self.wasm) != has(self.lua)": (self) => has(self, "wasm") !== has(self, "lua"),
  'self.all(key, !key.contains("*"))': (self) => Object.keys(self).every((key) => !key.includes("*")),
  "self.all(key, key.size() != 0)": (self) => Object.keys(self).every((key) => key.length !== 0),
  '!self.contains("*")': (self: string) => !self.includes("*"),
  "self.size() == 0": (self: string) => self.length === 0,
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "file", "oci"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "file", "oci"])':
    urlRule(["", "http", "https", "file", "oci"]),
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])':
    urlRule(["", "http", "https", "oci", "file"]),
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (self) => self.valueFrom !== "HOST" || !has(self, "value"),
  'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)': (self) =>
    has(self, "context") && self.context === "WAYPOINT" ? has(self, "waypoint") : !has(self, "waypoint"),
  "0 < self && self <= 65535": (self: number) => 0 < self && self <= 65535,
  // Envoy Gateway EnvoyExtensionPolicy: targets
  "(has(self.targetRef) && !has(self.targetRefs)) || (!has(self.targetRef) && has(self.targetRefs)) || (has(self.targetSelectors) && self.targetSelectors.size() > 0)":
    (self) => has(self, "targetRef") !== has(self, "targetRefs") || (has(self, "targetSelectors") && self.targetSelectors.length > 0),
  "has(self.targetRef) ? self.targetRef.group == 'gateway.networking.k8s.io' : true": (self) =>
    !has(self, "targetRef") || self.targetRef.group === GATEWAY_GROUP,
  "has(self.targetRef) ? self.targetRef.kind in ['Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'] : true":
    (self) => !has(self, "targetRef") || POLICY_KINDS.includes(self.targetRef.kind),
  "has(self.targetRefs) ? self.targetRefs.all(ref, ref.group == 'gateway.networking.k8s.io') : true": (self) =>
    !has(self, "targetRefs") || self.targetRefs.every((ref: any) => ref.group === GATEWAY_GROUP),
  "has(self.targetRefs) ? self.targetRefs.all(ref, ref.kind in ['Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute']) : true":
    (self) => !has(self, "targetRefs") || self.targetRefs.every((ref: any) => POLICY_KINDS.includes(ref.kind)),
  "!has(self.mergeType) || ((!has(self.targetRef) || self.targetRef.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute']) && (!has(self.targetRefs) || self.targetRefs.all(ref, ref.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'])) && (!has(self.targetSelectors) || self.targetSelectors.all(sel, sel.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'])))":
    (self) =>
      !has(self, "mergeType") ||
      ((!has(self, "targetRef") || ROUTE_KINDS.includes(self.targetRef.kind)) &&
        (!has(self, "targetRefs") || self.targetRefs.every((ref: any) => ROUTE_KINDS.includes(ref.kind))) &&
        (!has(self, "targetSelectors") || self.targetSelectors.every((sel: any) => ROUTE_KINDS.includes(sel.kind)))),
  "self != 'Replace'": (self: string) => self !== "Replace",
  "has(self.group) ? self.group == 'gateway.networking.k8s.io' : true": (self) => !has(self, "group") || self.group === GATEWAY_GROUP,
  "self.from != 'Selector' || has(self.selector)": (self) => self.from !== "Selector" || has(self, "selector"),
  // Envoy Gateway EnvoyExtensionPolicy: wasm code
  "self.type == 'HTTP' ? has(self.http) : !has(self.http)": (self) => (self.type === "HTTP") === has(self, "http"),
  "self.type == 'Image' ? has(self.image) : !has(self.image)": (self) => (self.type === "Image") === has(self, "image"),
  "self.kind == 'Secret'": (self) => self.kind === "Secret",
};

const normalise = (rule: string) => rule.replace(/\s+/g, " ").trim();
const CEL_BY_TEXT = new Map(Object.entries(CEL_RULES).map(([rule, check]) => [normalise(rule), check]));

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
ajv.addFormat("date-time", { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) });
ajv.addFormat("byte", { type: "string", validate: (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 });

interface Crd {
  apiVersion: string;
  schema: Schema;
  validate: ValidateFunction;
}
const crds = new Map<string, Crd>();

function crdFor(kind: string): Crd {
  let crd = crds.get(kind);
  if (!crd) {
    const file = CRDS[kind];
    if (!file) throw new Error(`no CRD for kind ${kind}`);
    const document = parse(readFileSync(join(SCHEMA_ROOT, file), "utf8"));
    const version = document.spec.versions.find((v: { storage?: boolean }) => v.storage) ?? document.spec.versions[0];
    const schema = version.schema.openAPIV3Schema;
    crd = { apiVersion: `${document.spec.group}/${version.name}`, schema, validate: ajv.compile(schema) };
    crds.set(kind, crd);
  }
  return crd;
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The API server's structural defaulting: absent properties with a `default` get it, before validation. */
function applyDefaults(schema: Schema, value: any): void {
  if (isObject(value)) {
    for (const [key, property] of Object.entries<Schema>(schema.properties ?? {})) {
      if (value[key] === undefined && property.default !== undefined) value[key] = structuredClone(property.default);
      if (value[key] !== undefined) applyDefaults(property, value[key]);
    }
    if (isObject(schema.additionalProperties)) for (const item of Object.values(value)) applyDefaults(schema.additionalProperties, item);
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) applyDefaults(schema.items, item);
  }
}

const ROOT_FIELDS = ["apiVersion", "kind", "metadata"];

/** Unknown fields, list-type uniqueness and CEL rules, walking the value along its schema. */
function walk(schema: Schema, value: any, path: string, problems: string[], root = false): void {
  for (const rule of schema["x-kubernetes-validations"] ?? []) {
    const check = CEL_BY_TEXT.get(normalise(rule.rule));
    if (!check) problems.push(`${path}: CEL rule not implemented in the test support: "${rule.message}"`);
    else if (!check(value)) problems.push(`${path}: ${rule.message}`);
  }
  for (const sub of [...(schema.allOf ?? []), ...(schema.anyOf ?? [])]) if (sub.properties) walk(sub, value, path, problems);
  if (isObject(value)) {
    const properties: Record<string, Schema> = schema.properties ?? {};
    const open = schema["x-kubernetes-preserve-unknown-fields"] === true || schema.additionalProperties === true;
    for (const [key, item] of Object.entries(value)) {
      if (properties[key]) walk(properties[key], item, `${path}.${key}`, problems);
      else if (isObject(schema.additionalProperties)) walk(schema.additionalProperties, item, `${path}.${key}`, problems);
      else if (!open && schema.properties && !(root && ROOT_FIELDS.includes(key))) problems.push(`${path}: unknown field "${key}"`);
    }
  } else if (Array.isArray(value)) {
    const listType = schema["x-kubernetes-list-type"];
    const keys: string[] | undefined = schema["x-kubernetes-list-map-keys"];
    if (listType === "map" || listType === "set") {
      const identities = value.map((item) => JSON.stringify(listType === "map" && keys ? keys.map((key) => item?.[key]) : item));
      if (new Set(identities).size !== identities.length) problems.push(`${path}: duplicate entries in a list of type ${listType}`);
    }
    if (schema.items) value.forEach((item, index) => walk(schema.items, item, `${path}[${index}]`, problems));
  }
}

/** Every reason the API server would refuse the resource; empty when it would accept it. */
export function schemaErrors(resource: any): string[] {
  const crd = crdFor(resource.kind);
  const problems: string[] = [];
  if (resource.apiVersion !== crd.apiVersion) problems.push(`apiVersion ${resource.apiVersion}, expected ${crd.apiVersion}`);
  if (!resource.metadata?.name) problems.push("metadata.name missing");
  const defaulted = structuredClone(resource);
  applyDefaults(crd.schema, defaulted);
  if (!crd.validate(defaulted)) {
    problems.push(...(crd.validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`));
  }
  walk(crd.schema, defaulted, "", problems, true);
  return problems;
}
