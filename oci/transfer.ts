// push, pull and inspect: an Image to a registry and back, read the way Istio will fetch it.
import { sha256Digest } from "./digest.js";
import { envoyVerdict, type EnvoyVerdict } from "./envoy-check.js";
import { OciError } from "./errors.js";
import type { Image } from "./image.js";
import { fetchAsIstio, type Format } from "./istio-fetch.js";
import { istioMaxWasmBytes } from "./limits.js";
import { parseIndex, parseManifest, type Descriptor, type Manifest, type Platform } from "./manifest.js";
import { DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { printable } from "./printable.js";
import { formatReference, type ImageReference } from "./reference.js";
import { RegistryClient, type ClientOptions } from "./registry-client.js";

export interface PushResult {
  digest: string;
  /** registry/repository:tag@sha256:..., the url for a WasmPlugin once prefixed with oci://. */
  reference: string;
}

export async function pushImage(image: Image, ref: ImageReference, options: ClientOptions = {}): Promise<PushResult> {
  const client = new RegistryClient(ref, options);
  const manifest = parseManifest(image.manifest, "the image's manifest");
  const needed = new Set([...(manifest.config ? [manifest.config.digest] : []), ...manifest.layers.map((layer) => layer.digest)]);
  for (const digest of needed) {
    const data = image.blobs.get(digest);
    if (!data) throw new OciError(`the image lacks blob ${digest}`);
    await client.uploadBlob(digest, data);
  }
  const digest = await client.putManifest(ref.tag ?? image.manifestDigest, image.manifest, image.mediaType);
  if (digest !== image.manifestDigest) {
    throw new OciError(`the registry stored the manifest as ${digest}, not ${image.manifestDigest}`);
  }
  return { digest, reference: formatReference(ref, digest) };
}

const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
const SCHEMA1_TYPES = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);
/** Indexes nested deeper than this are refused (Istio's go-containerregistry would recurse). */
const INDEX_DEPTH = 4;

/** go-containerregistry's matchesPlatform against its default platform linux/amd64; a child without one counts as linux/amd64. */
function isLinuxAmd64(platform: Platform | undefined): boolean {
  return platform === undefined || (platform.os === "linux" && platform.architecture === "amd64");
}

interface Resolved {
  manifest: Manifest;
  digest: string;
  size: number;
  /** The index the reference named, when Istio would resolve it to its linux/amd64 image. */
  index?: string;
}

/** The image a reference names, resolving indexes as Istio's go-containerregistry does (remote.Descriptor.Image). */
async function resolveImage(client: RegistryClient, ref: ImageReference): Promise<Resolved> {
  let fetched = await client.getManifest(ref.digest ?? ref.tag ?? "latest");
  let index: string | undefined;
  for (let depth = 0; ; depth++) {
    const contentType = fetched.mediaType.split(";")[0].trim();
    if (SCHEMA1_TYPES.has(contentType)) throw new OciError(`${formatReference(ref)} is a Docker schema 1 image, which Istio does not read`);
    if (!INDEX_TYPES.has(contentType)) break;
    if (depth === INDEX_DEPTH) throw new OciError(`${formatReference(ref)} nests indexes more than ${INDEX_DEPTH} deep`);
    const child = parseIndex(fetched.bytes).manifests.find((entry) => isLinuxAmd64(entry.platform));
    if (!child) {
      throw new OciError(`${formatReference(ref)} is an index without a linux/amd64 image, the platform Istio's fetcher picks`);
    }
    index ??= fetched.digest;
    fetched = await client.getManifest(child.digest);
  }
  return { manifest: parseManifest(fetched.bytes), digest: fetched.digest, size: fetched.bytes.length, index };
}

export interface PullResult {
  digest: string;
  index?: string;
  format: Format;
  wasm: Buffer;
  /** Envoy's load-time checks on the module. */
  check: EnvoyVerdict;
}

export async function pullImage(ref: ImageReference, options: ClientOptions = {}): Promise<PullResult> {
  const client = new RegistryClient(ref, options);
  const { manifest, digest, index } = await resolveImage(client, ref);
  const { format, wasm } = await fetchAsIstio(manifest, (layer) => client.getBlob(layer), istioMaxWasmBytes());
  return { digest, index, format, wasm, check: envoyVerdict(wasm) };
}

type Shown = Pick<Descriptor, "mediaType" | "digest" | "size">;

export interface Inspection {
  reference: string;
  /** The manifest Istio fetches; its digest is what a WasmPlugin's sha256 must match. */
  digest: string;
  index?: string;
  manifestSize: number;
  mediaType: string;
  /** The format Istio reads the image as, when it reads it. */
  format?: Format;
  annotations: Record<string, string>;
  config?: Shown & { content?: unknown };
  layers: Shown[];
  module?: { size: number; sha256: string; abiVersion: string | null; notes: string[] };
  /** Would Istio fetch the module and Envoy load it? */
  loadable: boolean;
  /** Why not, when not: Istio's fetcher first, then Envoy's checks. */
  problem?: string;
}

const CONFIG_SHOWN = 64 * 1024;

export async function inspectImage(ref: ImageReference, options: ClientOptions = {}): Promise<Inspection> {
  const client = new RegistryClient(ref, options);
  const { manifest, digest, size, index } = await resolveImage(client, ref);
  const shown = ({ mediaType, digest, size }: Descriptor): Shown => ({ mediaType, digest, size });
  let config: Inspection["config"];
  if (manifest.config) {
    config = shown(manifest.config);
    // Istio never reads the config; show it when small, and never fail on it.
    if (manifest.config.size <= CONFIG_SHOWN) {
      try {
        config.content = JSON.parse((await client.getBlob(manifest.config)).toString("utf8"));
      } catch {
        config.content = undefined;
      }
    }
  }
  const inspection: Inspection = {
    reference: formatReference(ref, digest),
    digest,
    index,
    manifestSize: size,
    mediaType: manifest.mediaType ?? OCI_MANIFEST,
    annotations: manifest.annotations ?? {},
    config,
    layers: manifest.layers.map(shown),
    loadable: false,
  };
  let fetched;
  try {
    fetched = await fetchAsIstio(manifest, (layer) => client.getBlob(layer), istioMaxWasmBytes());
  } catch (error) {
    return { ...inspection, problem: `Istio's fetcher: ${(error as Error).message}` };
  }
  const check = envoyVerdict(fetched.wasm);
  return {
    ...inspection,
    format: fetched.format,
    module: { size: fetched.wasm.length, sha256: sha256Digest(fetched.wasm), abiVersion: check.abiVersion, notes: check.notes },
    loadable: check.ok,
    problem: check.ok ? undefined : `Envoy would refuse the module: ${printable(check.problems[0])}`,
  };
}
