// The pieces under the registry client: tar, gzip, the three image formats, the layout on disk,
// references and authentication challenges.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { sha256Digest } from "../../oci/digest.js";
import { IMAGE_FORMATS, buildImage } from "../../oci/image.js";
import { fetchAsIstio } from "../../oci/istio-fetch.js";
import type { Manifest } from "../../oci/manifest.js";
import { readLayout, writeLayout } from "../../oci/layout.js";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
  WASM_CONFIG,
  WASM_CONTENT,
} from "../../oci/media-types.js";
import { parseReference } from "../../oci/reference.js";
import { runtimeConfigFor } from "../../oci/runtime-config.js";
import { createTar } from "../../oci/tar.js";
import { parseChallenge } from "../../oci/www-authenticate.js";
import { pluginWasm } from "./support/plugin.js";
import { readTar } from "./support/tar-reader.js";

const manifestOf = (bytes: Buffer) => JSON.parse(bytes.toString("utf8")) as Manifest;

describe("tar", () => {
  it("round-trips regular files with fixed owner, mode and mtime", () => {
    const big = Buffer.alloc(1500, 7);
    const tar = createTar([{ name: "plugin.wasm", data: big }, { name: "empty", data: Buffer.alloc(0) }]);
    assert.equal(tar.length % 512, 0);
    assert.deepEqual([...readTar(tar)].map((f) => [f.name, f.data.length]), [["plugin.wasm", 1500], ["empty", 0]]);
    assert.equal(tar.subarray(100, 107).toString(), "0000644");
    assert.equal(tar.subarray(136, 147).toString(), "00000000000");
    assert.ok(createTar([{ name: "a", data: big }]).equals(createTar([{ name: "a", data: Buffer.from(big) }])));
  });
});

const fromBlobs = (image: { blobs: Map<string, Buffer> }) => async (layer: { digest: string }) => image.blobs.get(layer.digest)!;
const LIMIT = 256 * 1024 * 1024;

describe("building images", () => {
  const wasm = pluginWasm("image");

  it("writes the compat format Istio's fetcher reads", async () => {
    const image = buildImage(wasm, { rootIds: ["r1", "r2"] });
    const manifest = manifestOf(image.manifest);
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.config!.mediaType, OCI_CONFIG);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), [OCI_LAYER_TAR_GZIP]);
    assert.deepEqual(manifest.annotations, { "module.wasm.image/variant": "compat" });
    const layer = image.blobs.get(manifest.layers[0].digest)!;
    const files = Object.fromEntries([...readTar(gunzipSync(layer))].map((f) => [f.name, Buffer.from(f.data)]));
    assert.ok(files["plugin.wasm"].equals(wasm));
    assert.deepEqual(JSON.parse(files["runtime-config.json"].toString()), {
      type: "envoy_proxy",
      abiVersions: ["proxy_abi_version_0_2_1"],
      config: { root_ids: ["r1", "r2"] },
    });
    const config = JSON.parse(image.blobs.get(manifest.config!.digest)!.toString());
    assert.deepEqual(config.rootfs.diff_ids, [sha256Digest(gunzipSync(layer))]);
    assert.equal(image.manifestDigest, sha256Digest(image.manifest));
    const fetched = await fetchAsIstio(manifest, fromBlobs(image), LIMIT);
    assert.equal(fetched.format, "compat");
    assert.ok(fetched.wasm.equals(wasm));
  });

  it("writes the docker format: schema 2, the last layer a docker tar+gzip with plugin.wasm", async () => {
    const image = buildImage(wasm, { format: "docker" });
    const manifest = manifestOf(image.manifest);
    assert.equal(image.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.config!.mediaType, DOCKER_CONFIG);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), [DOCKER_LAYER_TAR_GZIP]);
    assert.equal(manifest.annotations, undefined, "docker schema 2 has no annotations");
    const fetched = await fetchAsIstio(manifest, fromBlobs(image), LIMIT);
    assert.equal(fetched.format, "docker");
    assert.ok(fetched.wasm.equals(wasm));
  });

  it("writes the oci format: two layers, the raw module as the wasm content layer", async () => {
    const image = buildImage(wasm, { format: "oci", rootIds: ["r"] });
    const manifest = manifestOf(image.manifest);
    assert.equal(manifest.config!.mediaType, WASM_CONFIG);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), [WASM_CONFIG, WASM_CONTENT]);
    const fetched = await fetchAsIstio(manifest, fromBlobs(image), LIMIT);
    assert.equal(fetched.format, "oci");
    assert.ok(fetched.wasm.equals(wasm));
    assert.ok(image.blobs.get(manifest.layers[1].digest)!.equals(wasm));
  });

  it("is reproducible: same plugin and format, same digest; another plugin, root id or format, another digest", () => {
    for (const format of IMAGE_FORMATS) {
      const digest = buildImage(wasm, { format }).manifestDigest;
      assert.equal(buildImage(Buffer.from(wasm), { format }).manifestDigest, digest, format);
      assert.notEqual(buildImage(pluginWasm("other"), { format }).manifestDigest, digest, format);
      assert.notEqual(buildImage(wasm, { format, rootIds: ["x"] }).manifestDigest, digest, format);
    }
    const digests = new Set(IMAGE_FORMATS.map((format) => buildImage(wasm, { format }).manifestDigest));
    assert.equal(digests.size, 3);
    for (const [, blob] of buildImage(wasm).blobs) if (blob[0] === 0x1f) assert.deepEqual([...blob.subarray(4, 10)], [0, 0, 0, 0, 2, 0xff]);
  });

  it("refuses bytes that are not a wasm module, and a module Envoy would not load (issue 15: the empty module)", () => {
    assert.throws(() => buildImage(Buffer.from("#!/bin/sh\n")), /^OciError: the module is not one Envoy would load: Failed to parse/);
    const empty = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    for (const format of IMAGE_FORMATS) {
      assert.throws(
        () => buildImage(empty, { format }),
        /^OciError: the module is not one Envoy would load: Missing or unknown Proxy-Wasm ABI version/,
      );
    }
    assert.deepEqual(runtimeConfigFor(pluginWasm(), []).abiVersions, ["proxy_abi_version_0_2_1"]);
  });

  it("writes an OCI image layout and reads it back unchanged, in every format", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pwas-layout-"));
    try {
      for (const format of IMAGE_FORMATS) {
        const image = buildImage(wasm, { format });
        const at = join(dir, format);
        await writeLayout(at, image, "v1");
        assert.deepEqual(JSON.parse(await readFile(join(at, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
        const index = JSON.parse(await readFile(join(at, "index.json"), "utf8"));
        assert.equal(index.manifests[0].digest, image.manifestDigest);
        assert.equal(index.manifests[0].mediaType, image.mediaType);
        assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1");
        const back = await readLayout(at);
        assert.equal(back.manifestDigest, image.manifestDigest);
        assert.equal(back.mediaType, image.mediaType);
        assert.deepEqual([...back.blobs.keys()].sort(), [...image.blobs.keys()].sort());
      }
      const compat = join(dir, "compat");
      await rm(join(compat, "blobs", "sha256", manifestOf(buildImage(wasm).manifest).layers[0].digest.slice(7)));
      await assert.rejects(readLayout(compat), /lacks blob sha256:/);
      await assert.rejects(readLayout(join(dir, "nowhere")), /not an OCI image layout/);
      await writeFile(join(compat, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: "sha256:../../../etc/passwd", size: 1 }] }));
      await assert.rejects(readLayout(compat), /^OciError: .*index\.json is malformed: manifests\[0\]\.digest is "sha256:\.\.\/\.\.\/\.\.\/etc\/passwd", not sha256:<64 hex digits>$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("image references", () => {
  it("reads registry, repository, tag and digest like docker does", () => {
    const digest = "sha256:" + "e".repeat(64);
    assert.deepEqual(parseReference("127.0.0.1:5000/filters/a:v1"), {
      registry: "127.0.0.1:5000", apiHost: "127.0.0.1:5000", repository: "filters/a", tag: "v1", digest: undefined,
    });
    assert.deepEqual(parseReference(`oci://ghcr.io/me/f@${digest}`), {
      registry: "ghcr.io", apiHost: "ghcr.io", repository: "me/f", tag: undefined, digest,
    });
    assert.deepEqual(parseReference("busybox"), {
      registry: "docker.io", apiHost: "registry-1.docker.io", repository: "library/busybox", tag: "latest", digest: undefined,
    });
    assert.equal(parseReference("localhost/x").registry, "localhost");
    assert.throws(() => parseReference("ghcr.io/Me/F:v1"), /bad repository name "Me\/F"/);
    assert.throws(() => parseReference("ghcr.io/me/f@sha256:12"), /not a sha256 digest/);
  });
});

describe("WWW-Authenticate", () => {
  it("parses Bearer and Basic challenges", () => {
    assert.deepEqual(
      parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull,push"'),
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/x:pull,push" } },
    );
    assert.deepEqual(parseChallenge('Basic realm="test"'), { scheme: "basic", params: { realm: "test" } });
    assert.equal(parseChallenge(""), undefined);
  });
});
