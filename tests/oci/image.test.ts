// The pieces under the registry client: tar, gzip, the two image variants, the layout on disk,
// references and authentication challenges.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { sha256Digest } from "../../oci/digest.js";
import { wasmFromLayer, wasmLayer } from "../../oci/extract.js";
import { buildImage, type Manifest } from "../../oci/image.js";
import { readLayout, writeLayout } from "../../oci/layout.js";
import { OCI_CONFIG, OCI_LAYER_TAR_GZIP, WASM_CONFIG, WASM_CONTENT } from "../../oci/media-types.js";
import { parseReference } from "../../oci/reference.js";
import { runtimeConfigFor } from "../../oci/runtime-config.js";
import { createTar, readTar } from "../../oci/tar.js";
import { parseChallenge } from "../../oci/www-authenticate.js";
import { pluginWasm } from "./support/plugin.js";

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

describe("building images", () => {
  const wasm = pluginWasm("image");

  it("writes the compat variant Istio's fetcher reads", () => {
    const image = buildImage(wasm, { rootIds: ["r1", "r2"] });
    const manifest = manifestOf(image.manifest);
    assert.equal(manifest.config.mediaType, OCI_CONFIG);
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
    const config = JSON.parse(image.blobs.get(manifest.config.digest)!.toString());
    assert.deepEqual(config.rootfs.diff_ids, [sha256Digest(gunzipSync(layer))]);
    assert.equal(image.manifestDigest, sha256Digest(image.manifest));
    assert.ok(wasmFromLayer("compat", layer).equals(wasm));
  });

  it("is reproducible: same plugin, same digest; another plugin or root id, another digest", () => {
    const digest = buildImage(wasm).manifestDigest;
    assert.equal(buildImage(Buffer.from(wasm)).manifestDigest, digest);
    assert.notEqual(buildImage(pluginWasm("other")).manifestDigest, digest);
    assert.notEqual(buildImage(wasm, { rootIds: ["x"] }).manifestDigest, digest);
    const gz = buildImage(wasm).blobs;
    for (const [, blob] of gz) if (blob[0] === 0x1f) assert.deepEqual([...blob.subarray(4, 10)], [0, 0, 0, 0, 2, 0xff]);
  });

  it("writes the two-layer wasme variant", () => {
    const image = buildImage(wasm, { format: "wasme", rootIds: ["r"] });
    const manifest = manifestOf(image.manifest);
    assert.equal(manifest.config.mediaType, WASM_CONFIG);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), [WASM_CONFIG, WASM_CONTENT]);
    const { variant, layer } = wasmLayer(manifest);
    assert.equal(variant, "wasme");
    assert.ok(image.blobs.get(layer.digest)!.equals(wasm));
  });

  it("refuses bytes that are not a wasm module", () => {
    assert.throws(() => buildImage(Buffer.from("#!/bin/sh\n")), /not a wasm module/);
    assert.deepEqual(runtimeConfigFor(pluginWasm(), []).abiVersions, ["proxy_abi_version_0_2_1"]);
  });

  it("writes an OCI image layout and reads it back unchanged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pwas-layout-"));
    try {
      const image = buildImage(wasm);
      await writeLayout(dir, image, "v1");
      assert.deepEqual(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
      const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
      assert.equal(index.manifests[0].digest, image.manifestDigest);
      assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1");
      const back = await readLayout(dir);
      assert.equal(back.manifestDigest, image.manifestDigest);
      assert.deepEqual([...back.blobs.keys()].sort(), [...image.blobs.keys()].sort());
      await rm(join(dir, "blobs", "sha256", manifestOf(image.manifest).layers[0].digest.slice(7)));
      await assert.rejects(readLayout(dir), /lacks blob sha256:/);
      await assert.rejects(readLayout(join(dir, "nowhere")), /not an OCI image layout/);
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
