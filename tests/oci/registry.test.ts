// Push, pull and inspect against a real registry (Debian's docker-registry), without and with
// htpasswd and token authentication; skopeo checks the pushed image reads as Istio expects.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveCredentials } from "../../oci/credentials.js";
import { sha256Digest } from "../../oci/digest.js";
import { IMAGE_FORMATS, buildImage, type Image } from "../../oci/image.js";
import { fetchAsIstio } from "../../oci/istio-fetch.js";
import { writeLayout } from "../../oci/layout.js";
import { parseManifest } from "../../oci/manifest.js";
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, WASM_CONFIG, WASM_CONTENT } from "../../oci/media-types.js";
import { RegistryClient } from "../../oci/registry-client.js";
import { parseReference } from "../../oci/reference.js";
import { inspectImage, pullImage, pushImage } from "../../oci/transfer.js";
import { pluginWasm } from "./support/plugin.js";
import {
  freePort,
  htpasswdLine,
  htpasswdUnavailable,
  registryUnavailable,
  skopeoUnavailable,
  startRegistry,
  type Registry,
} from "./support/registry.js";
import { ISSUER, SERVICE, opensslUnavailable, startTokenServer, type TokenServer } from "./support/token-server.js";

const plain = { plainHttp: true, timeoutMs: 10_000 };

function skopeo(...args: string[]): string {
  const result = spawnSync("skopeo", args, { encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 0, `skopeo ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

describe("registry without authentication", { skip: registryUnavailable, timeout: 180_000 }, () => {
  let registry: Registry;
  before(async () => (registry = await startRegistry()));
  after(async () => registry?.stop());

  it("pushes plugin.wasm and pulls it back byte for byte", async () => {
    const wasm = pluginWasm("round-trip");
    const ref = parseReference(`${registry.host}/filters/round-trip:v1`);
    const pushed = await pushImage(buildImage(wasm, { rootIds: ["my_root"] }), ref, plain);
    assert.match(pushed.digest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(pushed.reference, `${registry.host}/filters/round-trip:v1@${pushed.digest}`);
    const pulled = await pullImage(ref, plain);
    assert.equal(pulled.format, "compat");
    assert.equal(pulled.digest, pushed.digest);
    assert.ok(pulled.wasm.equals(wasm));
    const byDigest = await pullImage(parseReference(`${registry.host}/filters/round-trip@${pushed.digest}`), plain);
    assert.ok(byDigest.wasm.equals(wasm));
  });

  it("gives the same digest on every push of the same plugin.wasm", async () => {
    const wasm = pluginWasm("stable");
    const first = await pushImage(buildImage(wasm), parseReference(`${registry.host}/filters/stable:a`), plain);
    const second = await pushImage(buildImage(Buffer.from(wasm)), parseReference(`${registry.host}/filters/stable:b`), plain);
    assert.equal(first.digest, second.digest);
  });

  for (const format of IMAGE_FORMATS) {
    it(`pushes the ${format} format, pulls it back as Istio would, and skopeo reads it`, async () => {
      const wasm = pluginWasm(`format-${format}`);
      const ref = parseReference(`${registry.host}/filters/${format}:v1`);
      const image = buildImage(wasm, { format, rootIds: ["r"] });
      const pushed = await pushImage(image, ref, plain);
      assert.equal(pushed.digest, image.manifestDigest);
      const pulled = await pullImage(ref, plain);
      assert.equal(pulled.format, format);
      assert.ok(pulled.wasm.equals(wasm));
      assert.equal(pulled.check.ok, true);
      const inspection = await inspectImage(ref, plain);
      assert.equal(inspection.format, format);
      assert.equal(inspection.loadable, true);
      assert.equal(inspection.mediaType, image.mediaType);
      assert.deepEqual(inspection.module, { size: wasm.length, sha256: sha256Digest(wasm), abiVersion: "0.2.1", notes: [] });
      if (skopeoUnavailable) return;
      // skopeo inspect refuses the oci format's config as "an artifact", so compare the raw manifest.
      const raw = skopeo("inspect", "--raw", "--tls-verify=false", `docker://${ref.registry}/${ref.repository}:v1`);
      assert.equal(sha256Digest(Buffer.from(raw)), pushed.digest);
      // skopeo copies every blob (checking each digest) to a dir: layout that keeps the manifest byte for byte.
      const dir = await mkdtemp(join(tmpdir(), "pwas-skopeo-"));
      try {
        skopeo("copy", "--src-tls-verify=false", `docker://${ref.registry}/${ref.repository}:v1`, `dir:${dir}`);
        const manifestBytes = await readFile(join(dir, "manifest.json"));
        assert.equal(sha256Digest(manifestBytes), pushed.digest);
        const read = async (layer: { digest: string }) => readFile(join(dir, layer.digest.slice("sha256:".length)));
        const fetched = await fetchAsIstio(parseManifest(manifestBytes), read, 256 * 1024 * 1024);
        assert.equal(fetched.format, format);
        assert.ok(fetched.wasm.equals(wasm));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("reads what skopeo converts: our compat image re-encoded as docker schema 2 is the docker format", { skip: skopeoUnavailable }, async () => {
    const wasm = pluginWasm("converted");
    const dir = await mkdtemp(join(tmpdir(), "pwas-convert-"));
    try {
      await writeLayout(dir, buildImage(wasm), "v1");
      skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", `oci:${dir}:v1`, `docker://${registry.host}/filters/converted:v1`);
      const ref = parseReference(`${registry.host}/filters/converted:v1`);
      const inspection = await inspectImage(ref, plain);
      assert.equal(inspection.mediaType, DOCKER_MANIFEST);
      assert.equal(inspection.format, "docker");
      assert.equal(inspection.loadable, true);
      assert.ok((await pullImage(ref, plain)).wasm.equals(wasm));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("resolves a multi-platform index to its linux/amd64 image, as Istio's fetcher does", async () => {
    const ref = parseReference(`${registry.host}/filters/index:v1`);
    const client = new RegistryClient(ref, plain);
    const amd64 = buildImage(pluginWasm("amd64"), { format: "oci" });
    const arm64 = buildImage(pluginWasm("arm64"), { format: "oci" });
    for (const image of [amd64, arm64]) {
      for (const [digest, data] of image.blobs) await client.uploadBlob(digest, data);
      await client.putManifest(image.manifestDigest, image.manifest, image.mediaType);
    }
    const entry = (image: Image, architecture: string) => ({
      mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifest.length, platform: { os: "linux", architecture },
    });
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry(arm64, "arm64"), entry(amd64, "amd64")] }));
    await client.putManifest("v1", index, OCI_INDEX);
    const inspection = await inspectImage(ref, plain);
    assert.equal(inspection.index, sha256Digest(index));
    assert.equal(inspection.digest, amd64.manifestDigest, "Istio pins the image's digest, not the index's");
    assert.equal(inspection.loadable, true);
    assert.ok((await pullImage(ref, plain)).wasm.equals(pluginWasm("amd64")));
    const armOnly = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry(arm64, "arm64")] }));
    await client.putManifest("arm", armOnly, OCI_INDEX);
    await assert.rejects(
      inspectImage(parseReference(`${registry.host}/filters/index:arm`), plain),
      /^OciError: .*index:arm is an index without a linux\/amd64 image, the platform Istio's fetcher picks$/,
    );
  });

  it("answers inspect truthfully for images laid out as oras pushes them", async () => {
    // `oras push REF plugin.wasm:application/vnd.module.wasm.content.layer.v1+wasm [runtime-config.json:...]`:
    // an OCI manifest with an artifactType, the empty config, and one layer per file.
    const wasm = pluginWasm("oras");
    const emptyConfig = Buffer.from("{}");
    const runtime = Buffer.from('{"type":"envoy_proxy"}');
    const describe = (mediaType: string, data: Buffer, title: string) => ({
      mediaType, digest: sha256Digest(data), size: data.length, annotations: { "org.opencontainers.image.title": title },
    });
    const push = async (tag: string, layers: ReturnType<typeof describe>[], blobs: Buffer[]) => {
      const ref = parseReference(`${registry.host}/filters/oras:${tag}`);
      const client = new RegistryClient(ref, plain);
      for (const data of [emptyConfig, ...blobs]) await client.uploadBlob(sha256Digest(data), data);
      const manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.unknown.artifact.v1",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256Digest(emptyConfig), size: 2 },
        layers,
      };
      await client.putManifest(tag, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
      return inspectImage(ref, plain);
    };
    const one = await push("one", [describe(WASM_CONTENT, wasm, "plugin.wasm")], [wasm]);
    assert.equal(one.loadable, false, "Istio wants exactly two layers for the oci variant");
    assert.match(one.problem!, /as the oci variant: number of layers must be 2 but got 1$/);
    const two = await push("two", [describe(WASM_CONTENT, wasm, "plugin.wasm"), describe(WASM_CONFIG, runtime, "runtime-config.json")], [wasm, runtime]);
    assert.equal(two.format, "oci");
    assert.equal(two.loadable, true);
  });

  it("answers inspect truthfully for an image Envoy would refuse (issue 15: the empty module)", async () => {
    const ref = parseReference(`${registry.host}/filters/empty:v1`);
    const client = new RegistryClient(ref, plain);
    const empty = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const config = Buffer.from("{}");
    const layers = [
      { mediaType: WASM_CONFIG, digest: sha256Digest(config), size: config.length },
      { mediaType: WASM_CONTENT, digest: sha256Digest(empty), size: empty.length },
    ];
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: layers[0], layers }));
    for (const data of [config, empty]) await client.uploadBlob(sha256Digest(data), data);
    await client.putManifest("v1", manifest, OCI_MANIFEST);
    const inspection = await inspectImage(ref, plain);
    assert.equal(inspection.format, "oci");
    assert.equal(inspection.loadable, false);
    assert.match(inspection.problem!, /^Envoy would refuse the module: Missing or unknown Proxy-Wasm ABI version/);
  });

  it("reports a missing image and an unreachable registry in one line", async () => {
    await assert.rejects(pullImage(parseReference(`${registry.host}/filters/absent:v1`), plain), /not found/);
    const port = await freePort();
    await assert.rejects(
      pullImage(parseReference(`127.0.0.1:${port}/filters/x:v1`), plain),
      new RegExp(`^OciError: cannot reach http://127\\.0\\.0\\.1:${port}: connection refused$`),
    );
    await assert.rejects(
      pullImage(parseReference(`${registry.host}/filters/round-trip:v1`), { timeoutMs: 5000 }),
      /cannot reach https:\/\/127\.0\.0\.1:\d+: .*--plain-http/,
    );
  });
});

describe("registry with htpasswd authentication", { skip: registryUnavailable || htpasswdUnavailable, timeout: 60_000 }, () => {
  let registry: Registry;
  let home: string;
  before(async () => {
    registry = await startRegistry({ htpasswd: htpasswdLine("alice", "s3cret") });
    home = await mkdtemp(join(tmpdir(), "pwas-docker-config-"));
  });
  after(async () => {
    await registry?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("refuses a push without credentials, and with wrong ones, with a clear reason", async () => {
    const ref = parseReference(`${registry.host}/private/filter:v1`);
    await assert.rejects(pushImage(buildImage(pluginWasm()), ref, plain), /requires a login/);
    const wrong = { ...plain, credentials: { username: "alice", password: "nope" } };
    await assert.rejects(pushImage(buildImage(pluginWasm()), ref, wrong), /rejected the credentials/);
  });

  it("pushes and pulls with Basic credentials", async () => {
    const wasm = pluginWasm("basic");
    const ref = parseReference(`${registry.host}/private/filter:v1`);
    const credentials = { username: "alice", password: "s3cret" };
    const pushed = await pushImage(buildImage(wasm), ref, { ...plain, credentials });
    const pulled = await pullImage(ref, { ...plain, credentials });
    assert.ok(pulled.wasm.equals(wasm));
    assert.equal(pulled.digest, pushed.digest);
  });

  it("takes credentials from the docker config's auths", async () => {
    const auth = Buffer.from("alice:s3cret").toString("base64");
    await writeFile(join(home, "config.json"), JSON.stringify({ auths: { [registry.host]: { auth } } }));
    const credentials = await resolveCredentials(registry.host, {}, { DOCKER_CONFIG: home });
    assert.deepEqual(credentials, { username: "alice", password: "s3cret" });
    const wasm = pluginWasm("docker-config");
    const ref = parseReference(`${registry.host}/private/from-config:v1`);
    await pushImage(buildImage(wasm), ref, { ...plain, credentials });
    assert.ok((await pullImage(ref, { ...plain, credentials })).wasm.equals(wasm));
  });

  it("is read by skopeo with the same credentials", { skip: skopeoUnavailable }, async () => {
    const ref = parseReference(`${registry.host}/private/skopeo:v1`);
    const credentials = { username: "alice", password: "s3cret" };
    const pushed = await pushImage(buildImage(pluginWasm("skopeo-auth")), ref, { ...plain, credentials });
    const info = JSON.parse(
      skopeo("inspect", "--tls-verify=false", "--creds", "alice:s3cret", `docker://${registry.host}/private/skopeo:v1`),
    );
    assert.equal(info.Digest, pushed.digest);
  });
});

describe(
  "registry with Bearer token authentication",
  { skip: registryUnavailable || opensslUnavailable, timeout: 60_000 },
  () => {
    let registry: Registry;
    let tokens: TokenServer;
    before(async () => {
      tokens = await startTokenServer("bob", "t0ken-pass");
      registry = await startRegistry({
        token: { realm: tokens.realm, service: SERVICE, issuer: ISSUER, rootCertBundle: tokens.certificate },
      });
    });
    after(async () => {
      await registry?.stop();
      await tokens?.stop();
    });

    it("does the token dance for push and pull", async () => {
      const wasm = pluginWasm("bearer");
      const ref = parseReference(`${registry.host}/team/bearer:v1`);
      const credentials = { username: "bob", password: "t0ken-pass" };
      const pushed = await pushImage(buildImage(wasm), ref, { ...plain, credentials });
      assert.ok(tokens.scopes.includes("repository:team/bearer:pull,push"));
      const pulled = await pullImage(ref, { ...plain, credentials });
      assert.ok(pulled.wasm.equals(wasm));
      assert.equal(pulled.digest, pushed.digest);
      assert.ok(tokens.scopes.includes("repository:team/bearer:pull"));
    });

    it("says when the token server rejects the credentials", async () => {
      const ref = parseReference(`${registry.host}/team/bearer:v1`);
      const credentials = { username: "bob", password: "wrong" };
      await assert.rejects(pullImage(ref, { ...plain, credentials }), /token server .* rejected the credentials/);
    });
  },
);
