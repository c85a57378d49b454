// Builds the Wasm image in memory, in either variant, reproducibly: the same plugin.wasm and
// root ids give the same manifest digest, whatever the machine or the time.
import { gzipSync } from "node:zlib";
import { sha256Digest } from "./digest.js";
import {
  OCI_CONFIG,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
  TITLE_ANNOTATION,
  VARIANT_ANNOTATION,
  WASM_CONFIG,
  WASM_CONTENT,
} from "./media-types.js";
import { runtimeConfigFor } from "./runtime-config.js";
import { createTar } from "./tar.js";

export type ImageFormat = "compat" | "wasme";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image ready to write to a layout or push: the manifest bytes and every blob it names. */
export interface Image {
  manifest: Buffer;
  manifestDigest: string;
  blobs: Map<string, Buffer>;
}

export function imageFromManifest(manifest: Manifest, blobs: Map<string, Buffer>): Image {
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { manifest: bytes, manifestDigest: sha256Digest(bytes), blobs };
}

function describe(mediaType: string, data: Buffer, blobs: Map<string, Buffer>, title?: string): Descriptor {
  const digest = sha256Digest(data);
  blobs.set(digest, data);
  return { mediaType, digest, size: data.length, ...(title ? { annotations: { [TITLE_ANNOTATION]: title } } : {}) };
}

/** gzip with a fixed header (no name, mtime 0, OS "unknown") so the layer digest does not depend on the host. */
function reproducibleGzip(data: Buffer): Buffer {
  const gz = gzipSync(data, { level: 9 });
  gz.writeUInt32LE(0, 4);
  gz[9] = 0xff;
  return gz;
}

export function buildImage(wasm: Buffer, options: { format?: ImageFormat; rootIds?: string[] } = {}): Image {
  const runtimeConfig = Buffer.from(JSON.stringify(runtimeConfigFor(wasm, options.rootIds ?? [])));
  const blobs = new Map<string, Buffer>();
  if (options.format === "wasme") {
    // Istio wants exactly two layers, one of them the raw module; wasme also made the runtime config the image config.
    const config = describe(WASM_CONFIG, runtimeConfig, blobs);
    return imageFromManifest(
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config,
        layers: [
          describe(WASM_CONFIG, runtimeConfig, blobs, "runtime-config.json"),
          describe(WASM_CONTENT, wasm, blobs, "plugin.wasm"),
        ],
      },
      blobs,
    );
  }
  const tar = createTar([
    { name: "plugin.wasm", data: wasm },
    { name: "runtime-config.json", data: runtimeConfig },
  ]);
  const layer = describe(OCI_LAYER_TAR_GZIP, reproducibleGzip(tar), blobs);
  // No "created" field: a timestamp would change the digest on every build.
  const imageConfig = {
    architecture: "wasm",
    os: "wasip1",
    config: {},
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
  };
  const config = describe(OCI_CONFIG, Buffer.from(JSON.stringify(imageConfig)), blobs);
  return imageFromManifest(
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [layer],
      annotations: { [VARIANT_ANNOTATION]: "compat" },
    },
    blobs,
  );
}
