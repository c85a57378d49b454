// An OCI image layout on disk (image-spec image-layout.md): oci-layout, index.json, blobs/sha256/<hex>.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Digest } from "./digest.js";
import { OciError } from "./errors.js";
import type { Image } from "./image.js";
import { MANIFEST_LIMIT } from "./limits.js";
import { parseIndex, parseManifest } from "./manifest.js";
import { OCI_INDEX, OCI_MANIFEST } from "./media-types.js";

const REF_NAME = "org.opencontainers.image.ref.name";

function blobPath(dir: string, digest: string): string {
  return join(dir, "blobs", "sha256", digest.slice("sha256:".length));
}

export async function writeLayout(dir: string, image: Image, tag = "latest"): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const [digest, data] of image.blobs) await writeFile(blobPath(dir, digest), data);
  await writeFile(blobPath(dir, image.manifestDigest), image.manifest);
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: image.mediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        annotations: { [REF_NAME]: tag },
      },
    ],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index, null, 2) + "\n");
}

async function readBlob(dir: string, digest: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(blobPath(dir, digest));
  } catch {
    throw new OciError(`the layout ${dir} lacks blob ${digest}`);
  }
  if (sha256Digest(data) !== digest) throw new OciError(`blob ${digest} in ${dir} does not match its digest`);
  return data;
}

/** The layout's single image, checked against its digests. */
export async function readLayout(dir: string): Promise<Image> {
  let indexBytes: Buffer;
  try {
    indexBytes = await readFile(join(dir, "index.json"));
  } catch {
    throw new OciError(`${dir} is not an OCI image layout (no readable index.json)`);
  }
  if (indexBytes.length > MANIFEST_LIMIT) throw new OciError(`${dir}/index.json is larger than ${MANIFEST_LIMIT} bytes`);
  const entries = parseIndex(indexBytes, `${dir}/index.json`).manifests;
  if (entries.length !== 1) throw new OciError(`${dir} holds ${entries.length} images; expected exactly one`);
  const manifestBytes = await readBlob(dir, entries[0].digest);
  const manifest = parseManifest(manifestBytes, `the manifest in ${dir}`);
  const blobs = new Map<string, Buffer>();
  for (const descriptor of [...(manifest.config ? [manifest.config] : []), ...manifest.layers]) {
    blobs.set(descriptor.digest, await readBlob(dir, descriptor.digest));
  }
  // Keep the stored bytes: re-serialising could change the digest.
  return {
    manifest: manifestBytes,
    manifestDigest: entries[0].digest,
    mediaType: manifest.mediaType || entries[0].mediaType || OCI_MANIFEST,
    blobs,
  };
}
