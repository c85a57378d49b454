// An OCI image layout on disk (image-spec image-layout.md): oci-layout, index.json, blobs/sha256/<hex>.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Digest } from "./digest.js";
import { OciError } from "./errors.js";
import { imageFromManifest, type Image, type Manifest } from "./image.js";
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
        mediaType: OCI_MANIFEST,
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
  let index: { manifests?: { digest: string }[] };
  try {
    index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
  } catch {
    throw new OciError(`${dir} is not an OCI image layout (no readable index.json)`);
  }
  const entries = index.manifests ?? [];
  if (entries.length !== 1) throw new OciError(`${dir} holds ${entries.length} images; expected exactly one`);
  const manifestBytes = await readBlob(dir, entries[0].digest);
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
  const blobs = new Map<string, Buffer>();
  for (const descriptor of [manifest.config, ...manifest.layers]) {
    blobs.set(descriptor.digest, await readBlob(dir, descriptor.digest));
  }
  const image = imageFromManifest(manifest, blobs);
  // Keep the stored bytes: re-serialising could change the digest.
  return { ...image, manifest: manifestBytes, manifestDigest: entries[0].digest };
}
