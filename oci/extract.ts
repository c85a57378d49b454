// Finds plugin.wasm in a pulled image the way Istio's image fetcher does (pkg/wasm/imagefetcher.go):
// the compat variant's last tar+gzip layer holding plugin.wasm, or the wasme variant's raw content layer.
import { gunzipSync } from "node:zlib";
import { OciError } from "./errors.js";
import type { Descriptor, Manifest } from "./image.js";
import { DOCKER_LAYER_TAR_GZIP, OCI_LAYER_TAR_GZIP, WASM_CONTENT } from "./media-types.js";
import { readTar } from "./tar.js";

export type Variant = "compat" | "wasme";

/** Which layer holds the module, and in which variant; throws with Istio's reasons when none does. */
export function wasmLayer(manifest: Manifest): { variant: Variant; layer: Descriptor } {
  const layers = manifest.layers ?? [];
  if (layers.length === 0) throw new OciError("the image has no layers, so it holds no plugin.wasm");
  const last = layers[layers.length - 1];
  if (last.mediaType === OCI_LAYER_TAR_GZIP || last.mediaType === DOCKER_LAYER_TAR_GZIP) {
    return { variant: "compat", layer: last };
  }
  const content = layers.find((layer) => layer.mediaType === WASM_CONTENT);
  if (layers.length === 2 && content) return { variant: "wasme", layer: content };
  throw new OciError(
    `not a Wasm image: the last layer is ${last.mediaType}, not a tar+gzip layer, and there is no two-layer ${WASM_CONTENT} variant`,
  );
}

export function wasmFromLayer(variant: Variant, blob: Buffer): Buffer {
  if (variant === "wasme") return blob;
  let tar: Buffer;
  try {
    tar = gunzipSync(blob);
  } catch {
    throw new OciError("the image layer is not valid gzip");
  }
  for (const file of readTar(tar)) {
    if (file.name.split("/").pop() === "plugin.wasm") return Buffer.from(file.data);
  }
  throw new OciError("the image layer has no plugin.wasm");
}
