// Istio's fetcher rules (istio/istio pkg/wasm/imagefetcher.go, cache.go) applied to images built by
// hand the way docker, oras and wasme lay them out: which format wins, where plugin.wasm is found
// in a tar, what ISTIO_WASM_MAX_BINARY_SIZE_BYTES cuts, and what the cache refuses; then Envoy's checks.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import wabtInit from "wabt";
import { sha256Digest } from "../../oci/digest.js";
import { envoyVerdict } from "../../oci/envoy-check.js";
import { fetchAsIstio } from "../../oci/istio-fetch.js";
import { istioMaxWasmBytes } from "../../oci/limits.js";
import type { Descriptor, Manifest } from "../../oci/manifest.js";
import {
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
  WASM_CONFIG,
  WASM_CONTENT,
} from "../../oci/media-types.js";
import { createTar } from "../../oci/tar.js";
import { pluginWasm } from "./support/plugin.js";

const LIMIT = 256 * 1024 * 1024;
const wabt = await wabtInit();

/** An image from layers given as [mediaType, bytes]; blobs are served from memory. */
function image(mediaType: string | undefined, layers: [string, Buffer][]) {
  const blobs = new Map<string, Buffer>();
  const reads: string[] = [];
  const descriptors: Descriptor[] = layers.map(([type, data]) => {
    const digest = sha256Digest(data);
    blobs.set(digest, data);
    return { mediaType: type, digest, size: data.length };
  });
  const manifest: Manifest = { schemaVersion: 2, ...(mediaType ? { mediaType } : {}), layers: descriptors };
  const read = async (layer: Descriptor) => {
    reads.push(layer.mediaType);
    return blobs.get(layer.digest)!;
  };
  return { manifest, read, reads };
}

/** A tar entry of any type (createTar writes regular files only): patch the type flag and the checksum. */
function entry(name: string, data: Buffer, type = "0"): Buffer {
  const tar = createTar([{ name, data }]);
  const body = tar.subarray(0, tar.length - 1024);
  body[156] = type.charCodeAt(0);
  body.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += body[i];
  body.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return Buffer.from(body);
}
const tarGz = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

describe("Istio's fetcher: which format it reads", () => {
  const wasm = pluginWasm("fetch");
  const runtime = Buffer.from("{}");

  it("reads a docker-built image (docker schema 2, several layers) from its last layer's plugin.wasm", async () => {
    const base = tarGz(entry("etc/os-release", Buffer.from("x")));
    const i = image(DOCKER_MANIFEST, [[DOCKER_LAYER_TAR_GZIP, base], [DOCKER_LAYER_TAR_GZIP, tarGz(entry("plugin.wasm", wasm))]]);
    const fetched = await fetchAsIstio(i.manifest, i.read, LIMIT);
    assert.equal(fetched.format, "docker");
    assert.ok(fetched.wasm.equals(wasm));
  });

  it("reads a docker manifest only as docker: an OCI layer under it is refused, with no fallback", async () => {
    const i = image(DOCKER_MANIFEST, [[OCI_LAYER_TAR_GZIP, tarGz(entry("plugin.wasm", wasm))]]);
    await assert.rejects(
      fetchAsIstio(i.manifest, i.read, LIMIT),
      new RegExp(`^OciError: could not extract the Wasm file from the image as a Docker image: invalid media type ${OCI_LAYER_TAR_GZIP.replace(/[.+]/g, "\\$&")} \\(expect`),
    );
  });

  it("reads an OCI manifest whose last layer is a docker tar+gzip as neither compat nor oci", async () => {
    const i = image(OCI_MANIFEST, [[DOCKER_LAYER_TAR_GZIP, tarGz(entry("plugin.wasm", wasm))]]);
    await assert.rejects(fetchAsIstio(i.manifest, i.read, LIMIT), /as the compat variant: invalid media type .*; as the oci variant: number of layers must be 2 but got 1$/);
  });

  it("reads an OCI manifest without mediaType (oras, older buildah) as compat when its last layer is an OCI tar+gzip", async () => {
    const i = image(undefined, [[OCI_LAYER_TAR_GZIP, tarGz(entry("./plugin.wasm", wasm))]]);
    assert.equal((await fetchAsIstio(i.manifest, i.read, LIMIT)).format, "compat");
  });

  it("falls back to the oci variant when the compat attempt fails, even after reading its layer", async () => {
    const i = image(OCI_MANIFEST, [[WASM_CONTENT, wasm], [OCI_LAYER_TAR_GZIP, tarGz(entry("other.wasm", wasm))]]);
    const fetched = await fetchAsIstio(i.manifest, i.read, LIMIT);
    assert.equal(fetched.format, "oci");
    assert.deepEqual(i.reads, [OCI_LAYER_TAR_GZIP, WASM_CONTENT]);
  });

  it("reads the oci variant (wasme, oras push with the wasm media type) from either of exactly two layers", async () => {
    const first = image(OCI_MANIFEST, [[WASM_CONTENT, wasm], [WASM_CONFIG, runtime]]);
    assert.equal((await fetchAsIstio(first.manifest, first.read, LIMIT)).format, "oci");
    const three = image(OCI_MANIFEST, [[WASM_CONFIG, runtime], [WASM_CONTENT, wasm], [WASM_CONFIG, runtime]]);
    await assert.rejects(fetchAsIstio(three.manifest, three.read, LIMIT), /as the oci variant: number of layers must be 2 but got 3$/);
    const single = image(OCI_MANIFEST, [[WASM_CONTENT, wasm]]);
    await assert.rejects(fetchAsIstio(single.manifest, single.read, LIMIT), /number of layers must be 2 but got 1$/);
    const wrongType = image(OCI_MANIFEST, [[WASM_CONFIG, runtime], ["application/wasm", wasm]]);
    await assert.rejects(fetchAsIstio(wrongType.manifest, wrongType.read, LIMIT), /could not find the layer of type application\/vnd\.module\.wasm\.content\.layer\.v1\+wasm$/);
  });

  it("refuses an image without layers with Istio's reasons", async () => {
    const i = image(OCI_MANIFEST, []);
    await assert.rejects(
      fetchAsIstio(i.manifest, i.read, LIMIT),
      /^OciError: the image is in no format Istio reads: as the compat variant: number of layers must be greater than zero; as the oci variant: number of layers must be 2 but got 0$/,
    );
  });
});

describe("Istio's fetcher: plugin.wasm inside the tar", () => {
  const wasm = pluginWasm("tar");
  const read = async (layer: Buffer) => fetchAsIstio(image(OCI_MANIFEST, [[OCI_LAYER_TAR_GZIP, layer]]).manifest, async () => layer, LIMIT);

  it("takes the first entry whose base name is plugin.wasm, in any folder", async () => {
    const other = pluginWasm("second");
    const fetched = await read(tarGz(entry("a/b/plugin.wasm", wasm), entry("plugin.wasm", other)));
    assert.ok(fetched.wasm.equals(wasm));
  });

  it("takes a PAX long path's base name", async () => {
    const path = `${"d".repeat(120)}/plugin.wasm`;
    const record = (line: string) => {
      let length = line.length + 3;
      while (`${length} ${line}\n`.length !== length) length++;
      return `${length} ${line}\n`;
    };
    const pax = entry("PaxHeader", Buffer.from(record(`path=${path}`)), "x");
    assert.ok((await read(tarGz(pax, entry("ignored-name", wasm)))).wasm.equals(wasm));
  });

  it("takes a directory or symlink named plugin.wasm too, and then the cache refuses the empty binary", async () => {
    await assert.rejects(
      read(tarGz(entry("plugin.wasm/", Buffer.alloc(0), "5"), entry("x/plugin.wasm", wasm))),
      /^OciError: the compat image holds 0 bytes that Istio refuses as a Wasm binary/,
    );
  });

  it("says when no plugin.wasm is there, and when the layer is not gzip", async () => {
    await assert.rejects(read(tarGz(entry("filter.wasm", wasm))), /as the compat variant: plugin\.wasm not found in the archive;/);
    await assert.rejects(read(Buffer.from("not gzip at all")), /as the compat variant: failed to parse the layer as tar\.gz: /);
  });

  it("reads through at most ISTIO_WASM_MAX_BINARY_SIZE_BYTES of decompressed tar", async () => {
    const padding = entry("padding", Buffer.alloc(64 * 1024));
    const layer = tarGz(padding, entry("plugin.wasm", wasm));
    const needed = padding.length + 512 + wasm.length;
    const fits = await fetchAsIstio(image(OCI_MANIFEST, [[OCI_LAYER_TAR_GZIP, layer]]).manifest, async () => layer, needed);
    assert.ok(fits.wasm.equals(wasm));
    await assert.rejects(
      fetchAsIstio(image(OCI_MANIFEST, [[OCI_LAYER_TAR_GZIP, layer]]).manifest, async () => layer, needed - 1),
      /failed to read plugin\.wasm: it extends past Istio's limit of \d+ decompressed bytes/,
    );
    await assert.rejects(
      fetchAsIstio(image(OCI_MANIFEST, [[OCI_LAYER_TAR_GZIP, layer]]).manifest, async () => layer, padding.length),
      /plugin\.wasm not found within Istio's limit of \d+ decompressed bytes/,
    );
  });

  it("finds plugin.wasm ahead of a gzip bomb without inflating the bomb into memory", async () => {
    // 64 MiB of zeros in an entry after plugin.wasm, about 64 KB compressed: never inflated.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const after = gzipSync(Buffer.concat([entry("plugin.wasm", wasm), createTar([{ name: "zeros", data: zeros }])]));
    assert.ok(after.length < 256 * 1024);
    assert.ok((await read(after)).wasm.equals(wasm));
    const big = gzipSync(Buffer.concat([createTar([{ name: "zeros", data: zeros }]).subarray(0, 512), zeros]));
    const before = process.memoryUsage().rss;
    await assert.rejects(
      fetchAsIstio(image(OCI_MANIFEST, [[OCI_LAYER_TAR_GZIP, big]]).manifest, async () => big, 8 * 1024 * 1024),
      /not found within Istio's limit of 8388608 decompressed bytes/,
    );
    assert.ok(process.memoryUsage().rss - before < 48 * 1024 * 1024, "memory stays far below what the layer inflates to");
  });
});

describe("Istio's size limit and the cache's check", () => {
  it("reads ISTIO_WASM_MAX_BINARY_SIZE_BYTES as Istio does, 256 MiB by default", () => {
    assert.equal(istioMaxWasmBytes({}), 256 * 1024 * 1024);
    assert.equal(istioMaxWasmBytes({ ISTIO_WASM_MAX_BINARY_SIZE_BYTES: "1000" }), 1000);
    assert.throws(() => istioMaxWasmBytes({ ISTIO_WASM_MAX_BINARY_SIZE_BYTES: "1e3" }), /is not a byte count/);
  });

  it("says Istio would load a truncated module when the oci variant's module exceeds the limit", async () => {
    const wasm = pluginWasm("big");
    const i = image(OCI_MANIFEST, [[WASM_CONFIG, Buffer.from("{}")], [WASM_CONTENT, wasm]]);
    await assert.rejects(
      fetchAsIstio(i.manifest, i.read, wasm.length - 1),
      new RegExp(`the module layer is ${wasm.length} bytes; Istio reads only ${wasm.length - 1} .* would load a truncated module`),
    );
    assert.deepEqual(i.reads, [], "the oversized layer is not downloaded");
  });

  it("refuses what Istio's cache refuses: fewer than 8 bytes, or no \\0asm magic", async () => {
    for (const bytes of [Buffer.from([0, 0x61, 0x73, 0x6d]), Buffer.from("plugin.wasm is here")]) {
      const i = image(OCI_MANIFEST, [[WASM_CONFIG, Buffer.from("{}")], [WASM_CONTENT, bytes]]);
      await assert.rejects(fetchAsIstio(i.manifest, i.read, LIMIT), /^OciError: the oci image holds \d+ bytes that Istio refuses as a Wasm binary/);
    }
  });
});

describe("Envoy's checks after the fetch", () => {
  const wat = (body: string) => {
    const module = wabt.parseWat("m.wat", `(module ${body})`);
    try {
      return Buffer.from(module.toBinary({}).buffer);
    } finally {
      module.destroy();
    }
  };

  it("says Envoy loads an ABI 0.1.0 module (older Rust and C++ SDKs), noting what was not checked", () => {
    const old = wat(`(memory (export "memory") 1)
      (func (export "proxy_abi_version_0_1_0"))
      (func (export "malloc") (param i32) (result i32) (i32.const 0))`);
    const verdict = envoyVerdict(old);
    assert.equal(verdict.ok, true, verdict.problems.join("; "));
    assert.equal(verdict.abiVersion, "0.1.0");
    assert.match(verdict.notes[0], /^Proxy-Wasm ABI 0\.1\.0: Envoy loads it/);
    const noMemory = envoyVerdict(wat(`(func (export "proxy_abi_version_0_1_0")) (func (export "malloc") (param i32) (result i32) (i32.const 0))`));
    assert.equal(noMemory.ok, false);
    assert.match(noMemory.problems[0], /no memory/);
  });

  it("refuses the empty module and one without an ABI marker", () => {
    const empty = envoyVerdict(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    assert.equal(empty.ok, false);
    assert.match(empty.problems[0], /^Missing or unknown Proxy-Wasm ABI version/);
    assert.equal(envoyVerdict(pluginWasm("ok")).ok, true);
  });
});
