// Istio's image fetcher (istio/istio pkg/wasm/imagefetcher.go, PrepareFetch) step by step, so pull
// gets the module Istio would get and inspect can say why Istio would not:
// 1. a manifest whose mediaType field is Docker schema 2 is read as a Docker image only: its last
//    layer must be application/vnd.docker.image.rootfs.diff.tar.gzip holding plugin.wasm;
// 2. otherwise as the compat variant: last layer application/vnd.oci.image.layer.v1.tar+gzip holding plugin.wasm;
// 3. otherwise as the oci variant: exactly two layers, the module the first one of type
//    application/vnd.module.wasm.content.layer.v1+wasm, read raw;
// every read is capped at ISTIO_WASM_MAX_BINARY_SIZE_BYTES, and the cache (pkg/wasm/cache.go
// isValidWasmBinary) then wants at least 8 bytes starting with \0asm.
import { OciError } from "./errors.js";
import { pluginFromTarGz } from "./find-in-layer.js";
import type { Descriptor, Manifest } from "./manifest.js";
import { DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST, OCI_LAYER_TAR_GZIP, WASM_CONTENT } from "./media-types.js";
import { printable } from "./printable.js";

export type Format = "docker" | "compat" | "oci";

export type BlobReader = (layer: Descriptor) => Promise<Buffer>;

export interface Fetched {
  format: Format;
  layer: Descriptor;
  wasm: Buffer;
}

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

/** A gzip stream can be larger than what it holds, but not by much; past this the client does not download it. */
const GZIP_SLACK = 1024 * 1024;

async function fromTarLayer(manifest: Manifest, expect: string, read: BlobReader, limit: number): Promise<Omit<Fetched, "format">> {
  const layers = manifest.layers;
  if (layers.length === 0) throw new OciError("number of layers must be greater than zero");
  const layer = layers[layers.length - 1];
  if (layer.mediaType !== expect) throw new OciError(`invalid media type ${printable(layer.mediaType)} (expect ${expect})`);
  if (layer.size > limit + GZIP_SLACK) {
    throw new OciError(
      `the layer is ${layer.size} bytes compressed; this client downloads at most ${limit + GZIP_SLACK} (Istio's ISTIO_WASM_MAX_BINARY_SIZE_BYTES plus 1 MiB)`,
    );
  }
  return { layer, wasm: await pluginFromTarGz(await read(layer), limit) };
}

async function fromArtifact(manifest: Manifest, read: BlobReader, limit: number): Promise<Omit<Fetched, "format">> {
  const layers = manifest.layers;
  if (layers.length !== 2) throw new OciError(`number of layers must be 2 but got ${layers.length}`);
  const layer = layers.find((l) => l.mediaType === WASM_CONTENT);
  if (!layer) throw new OciError(`could not find the layer of type ${WASM_CONTENT}`);
  if (layer.size > limit) {
    // Istio reads io.LimitReader(layer, limit) without complaint and so hands Envoy a truncated module.
    throw new OciError(`the module layer is ${layer.size} bytes; Istio reads only ${limit} (ISTIO_WASM_MAX_BINARY_SIZE_BYTES) and would load a truncated module`);
  }
  return { layer, wasm: await read(layer) };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The module Istio would fetch from this manifest, or Istio's reasons (one line) why it would fetch none. */
export async function fetchAsIstio(manifest: Manifest, read: BlobReader, limit: number): Promise<Fetched> {
  let fetched: Fetched;
  if (manifest.mediaType === DOCKER_MANIFEST) {
    try {
      fetched = { format: "docker", ...(await fromTarLayer(manifest, DOCKER_LAYER_TAR_GZIP, read, limit)) };
    } catch (error) {
      throw new OciError(`could not extract the Wasm file from the image as a Docker image: ${message(error)}`);
    }
  } else {
    let compatError: unknown;
    try {
      fetched = { format: "compat", ...(await fromTarLayer(manifest, OCI_LAYER_TAR_GZIP, read, limit)) };
    } catch (error) {
      compatError = error;
      try {
        fetched = { format: "oci", ...(await fromArtifact(manifest, read, limit)) };
      } catch (ociError) {
        throw new OciError(
          `the image is in no format Istio reads: as the compat variant: ${message(compatError)}; as the oci variant: ${message(ociError)}`,
        );
      }
    }
  }
  if (fetched.wasm.length < 8 || !fetched.wasm.subarray(0, 4).equals(WASM_MAGIC)) {
    throw new OciError(
      `the ${fetched.format} image holds ${fetched.wasm.length} bytes that Istio refuses as a Wasm binary (it wants at least 8 bytes starting with \\0asm)`,
    );
  }
  return fetched;
}
