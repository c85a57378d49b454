// Builds the Wasm image in memory in each format Istio's fetcher reads, reproducibly: the same
// plugin.wasm, root ids and format give the same manifest digest, whatever the machine or the time.
//   docker  Docker schema 2, last layer application/vnd.docker.image.rootfs.diff.tar.gzip with plugin.wasm
//   compat  OCI image, last layer application/vnd.oci.image.layer.v1.tar+gzip with plugin.wasm (spec-compat.md)
//   oci     the Wasm artifact: runtime config and the raw module (application/vnd.module.wasm.content.layer.v1+wasm)
import { gzipSync } from "node:zlib";
import { checkModule } from "../host/module.js";
import { sha256Digest } from "./digest.js";
import { OciError } from "./errors.js";
import type { Format } from "./istio-fetch.js";
import type { Descriptor, Manifest } from "./manifest.js";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
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

export type ImageFormat = Format;
export const IMAGE_FORMATS: readonly ImageFormat[] = ["docker", "compat", "oci"];

/** An image ready to write to a layout or push: the manifest bytes and every blob it names. */
export interface Image {
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  blobs: Map<string, Buffer>;
}

export function imageFromManifest(manifest: Manifest, blobs: Map<string, Buffer>): Image {
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { manifest: bytes, manifestDigest: sha256Digest(bytes), mediaType: manifest.mediaType ?? OCI_MANIFEST, blobs };
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

/** Refuses a module Envoy would not load: an image of it would only fail in the proxy. */
export function checkLoadable(wasm: Buffer): void {
  const check = checkModule(wasm);
  if (!check.ok) throw new OciError(`the module is not one Envoy would load: ${check.problems[0]}`);
}

function tarImage(wasm: Buffer, runtimeConfig: Buffer, format: "docker" | "compat"): Image {
  const blobs = new Map<string, Buffer>();
  const tar = createTar([
    { name: "plugin.wasm", data: wasm },
    { name: "runtime-config.json", data: runtimeConfig },
  ]);
  const docker = format === "docker";
  const layer = describe(docker ? DOCKER_LAYER_TAR_GZIP : OCI_LAYER_TAR_GZIP, reproducibleGzip(tar), blobs);
  // No "created" field: a timestamp would change the digest on every build.
  const imageConfig = {
    architecture: "wasm",
    os: "wasip1",
    config: {},
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
  };
  const config = describe(docker ? DOCKER_CONFIG : OCI_CONFIG, Buffer.from(JSON.stringify(imageConfig)), blobs);
  // Docker schema 2 has no annotations.
  const manifest: Manifest = docker
    ? { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer] }
    : { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], annotations: { [VARIANT_ANNOTATION]: "compat" } };
  return imageFromManifest(manifest, blobs);
}

export function buildImage(wasm: Buffer, options: { format?: ImageFormat; rootIds?: string[] } = {}): Image {
  checkLoadable(wasm);
  const runtimeConfig = Buffer.from(JSON.stringify(runtimeConfigFor(wasm, options.rootIds ?? [])));
  const format = options.format ?? "compat";
  if (format !== "oci") return tarImage(wasm, runtimeConfig, format);
  // Istio wants exactly two layers, the module one of them; wasme made the runtime config the image config too.
  const blobs = new Map<string, Buffer>();
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
