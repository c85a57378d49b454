// Manifests and indexes from a registry or a layout, checked field by field so a malformed one
// is refused with a one-line reason naming the field, never a JavaScript error.
import { isDigest } from "./digest.js";
import { OciError } from "./errors.js";
import { printable } from "./printable.js";

export interface Platform {
  architecture?: string;
  os?: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config?: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const show = (value: unknown) => printable((JSON.stringify(value) ?? String(value)).slice(0, 80));

function fail(what: string, field: string, problem: string): never {
  throw new OciError(`${what} is malformed: ${field} ${problem}`);
}

function optionalString(what: string, field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") fail(what, field, `is ${show(value)}, not a string`);
  return value;
}

function stringList(what: string, field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) fail(what, field, "is not a list of strings");
  return value as string[];
}

function annotations(what: string, field: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")) {
    fail(what, field, "is not an object of strings");
  }
  return value as Record<string, string>;
}

function descriptor(what: string, field: string, value: unknown): Descriptor {
  if (!isObject(value)) fail(what, field, `is ${show(value)}, not a descriptor object`);
  const digest = value.digest;
  if (typeof digest !== "string" || !isDigest(digest)) fail(what, `${field}.digest`, `is ${show(digest)}, not sha256:<64 hex digits>`);
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    fail(what, `${field}.size`, `is ${show(size)}, not a byte count`);
  }
  const result: Descriptor = { mediaType: optionalString(what, `${field}.mediaType`, value.mediaType) ?? "", digest, size };
  const notes = annotations(what, `${field}.annotations`, value.annotations);
  if (notes) result.annotations = notes;
  if (value.platform !== undefined) {
    const p = value.platform;
    if (!isObject(p)) fail(what, `${field}.platform`, "is not an object");
    result.platform = {
      architecture: optionalString(what, `${field}.platform.architecture`, p.architecture),
      os: optionalString(what, `${field}.platform.os`, p.os),
      variant: optionalString(what, `${field}.platform.variant`, p.variant),
      "os.version": optionalString(what, `${field}.platform.os.version`, p["os.version"]),
      "os.features": stringList(what, `${field}.platform.os.features`, p["os.features"]),
      features: stringList(what, `${field}.platform.features`, p.features),
    };
  }
  return result;
}

function document(bytes: Buffer, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new OciError(`${what} is not JSON`);
  }
  if (!isObject(value)) throw new OciError(`${what} is malformed: it is ${show(value)}, not a JSON object`);
  if (value.schemaVersion === 1) throw new OciError(`${what} is a Docker schema 1 manifest, which Istio does not read`);
  if (value.schemaVersion !== 2) fail(what, "schemaVersion", `is ${show(value.schemaVersion)}, not 2`);
  return value;
}

export function parseManifest(bytes: Buffer, what = "the manifest"): Manifest {
  const value = document(bytes, what);
  if (value.layers !== undefined && !Array.isArray(value.layers)) fail(what, "layers", `is ${show(value.layers)}, not a list`);
  const layers = ((value.layers as unknown[] | undefined) ?? []).map((layer, n) => descriptor(what, `layers[${n}]`, layer));
  const manifest: Manifest = { schemaVersion: 2, layers };
  const mediaType = optionalString(what, "mediaType", value.mediaType);
  if (mediaType !== undefined) manifest.mediaType = mediaType;
  if (value.config !== undefined) manifest.config = descriptor(what, "config", value.config);
  const notes = annotations(what, "annotations", value.annotations);
  if (notes) manifest.annotations = notes;
  return manifest;
}

export function parseIndex(bytes: Buffer, what = "the index"): Index {
  const value = document(bytes, what);
  if (!Array.isArray(value.manifests)) fail(what, "manifests", `is ${show(value.manifests)}, not a list`);
  const manifests = (value.manifests as unknown[]).map((entry, n) => descriptor(what, `manifests[${n}]`, entry));
  return { schemaVersion: 2, mediaType: optionalString(what, "mediaType", value.mediaType), manifests };
}
