// push, pull and inspect: an Image to a registry and back, the way Istio will fetch it.
import { OciError } from "./errors.js";
import { wasmFromLayer, wasmLayer, type Variant } from "./extract.js";
import type { Image, Manifest } from "./image.js";
import { OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { formatReference, type ImageReference } from "./reference.js";
import { RegistryClient, type ClientOptions } from "./registry-client.js";

export interface PushResult {
  digest: string;
  /** registry/repository:tag@sha256:..., the url for a WasmPlugin once prefixed with oci://. */
  reference: string;
}

export async function pushImage(image: Image, ref: ImageReference, options: ClientOptions = {}): Promise<PushResult> {
  const client = new RegistryClient(ref, options);
  const manifest = JSON.parse(image.manifest.toString("utf8")) as Manifest;
  const needed = new Set([manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]);
  for (const digest of needed) {
    const data = image.blobs.get(digest);
    if (!data) throw new OciError(`the image lacks blob ${digest}`);
    await client.uploadBlob(digest, data);
  }
  const digest = await client.putManifest(ref.tag ?? image.manifestDigest, image.manifest, manifest.mediaType ?? OCI_MANIFEST);
  if (digest !== image.manifestDigest) {
    throw new OciError(`the registry stored the manifest as ${digest}, not ${image.manifestDigest}`);
  }
  return { digest, reference: formatReference(ref, digest) };
}

async function fetchManifest(client: RegistryClient, ref: ImageReference) {
  const fetched = await client.getManifest(ref.digest ?? ref.tag ?? "latest");
  const manifest = JSON.parse(fetched.bytes.toString("utf8")) as Manifest & { manifests?: unknown[] };
  if (manifest.mediaType === OCI_INDEX || fetched.mediaType.startsWith(OCI_INDEX) || manifest.manifests) {
    throw new OciError(`${formatReference(ref)} is a multi-platform index, not a Wasm image`);
  }
  return { manifest, digest: fetched.digest, size: fetched.bytes.length };
}

export interface PullResult {
  digest: string;
  variant: Variant;
  wasm: Buffer;
}

export async function pullImage(ref: ImageReference, options: ClientOptions = {}): Promise<PullResult> {
  const client = new RegistryClient(ref, options);
  const { manifest, digest } = await fetchManifest(client, ref);
  const { variant, layer } = wasmLayer(manifest);
  const wasm = wasmFromLayer(variant, await client.getBlob(layer.digest));
  return { digest, variant, wasm };
}

export interface Inspection {
  reference: string;
  digest: string;
  manifestSize: number;
  mediaType: string;
  variant?: Variant;
  annotations: Record<string, string>;
  config: { mediaType: string; digest: string; size: number; content?: unknown };
  layers: { mediaType: string; digest: string; size: number }[];
  /** Why Istio could not load this image, when it could not. */
  problem?: string;
}

export async function inspectImage(ref: ImageReference, options: ClientOptions = {}): Promise<Inspection> {
  const client = new RegistryClient(ref, options);
  const { manifest, digest, size } = await fetchManifest(client, ref);
  let variant: Variant | undefined;
  let problem: string | undefined;
  try {
    variant = wasmLayer(manifest).variant;
  } catch (error) {
    problem = (error as Error).message;
  }
  let content: unknown;
  if (manifest.config.size <= 64 * 1024) {
    const bytes = await client.getBlob(manifest.config.digest);
    try {
      content = JSON.parse(bytes.toString("utf8"));
    } catch {
      content = undefined;
    }
  }
  return {
    reference: formatReference(ref, digest),
    digest,
    manifestSize: size,
    mediaType: manifest.mediaType ?? OCI_MANIFEST,
    variant,
    annotations: manifest.annotations ?? {},
    config: { mediaType: manifest.config.mediaType, digest: manifest.config.digest, size: manifest.config.size, content },
    layers: manifest.layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    problem,
  };
}
