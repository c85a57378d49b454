// Push, pull and inspect against a real registry (Debian's docker-registry), without and with
// htpasswd and token authentication; skopeo checks the pushed image reads as Istio expects.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveCredentials } from "../../oci/credentials.js";
import { wasmFromLayer, wasmLayer } from "../../oci/extract.js";
import { buildImage } from "../../oci/image.js";
import { readLayout } from "../../oci/layout.js";
import { OCI_LAYER_TAR_GZIP, WASM_CONTENT } from "../../oci/media-types.js";
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

describe("registry without authentication", { skip: registryUnavailable, timeout: 60_000 }, () => {
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
    assert.equal(pulled.variant, "compat");
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

  it("round-trips the two-layer wasme variant", async () => {
    const wasm = pluginWasm("wasme");
    const ref = parseReference(`${registry.host}/filters/wasme:v1`);
    await pushImage(buildImage(wasm, { format: "wasme", rootIds: ["r"] }), ref, plain);
    const pulled = await pullImage(ref, plain);
    assert.equal(pulled.variant, "wasme");
    assert.ok(pulled.wasm.equals(wasm));
    const inspection = await inspectImage(ref, plain);
    assert.deepEqual(inspection.layers.map((layer) => layer.mediaType).slice(-1), [WASM_CONTENT]);
  });

  it("is read by skopeo as the compat image Istio's fetcher expects", { skip: skopeoUnavailable }, async () => {
    const wasm = pluginWasm("skopeo");
    const ref = parseReference(`${registry.host}/filters/skopeo:v1`);
    const pushed = await pushImage(buildImage(wasm), ref, plain);
    const info = JSON.parse(skopeo("inspect", "--tls-verify=false", `docker://${registry.host}/filters/skopeo:v1`));
    assert.equal(info.Digest, pushed.digest);
    const raw = JSON.parse(skopeo("inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/filters/skopeo:v1`));
    assert.equal(raw.annotations["module.wasm.image/variant"], "compat");
    assert.deepEqual(raw.layers.map((layer: { mediaType: string }) => layer.mediaType), [OCI_LAYER_TAR_GZIP]);
    assert.deepEqual(info.Layers, [raw.layers[0].digest]);
    // skopeo's own copy of the image still holds the same plugin.wasm where Istio looks for it.
    const dir = await mkdtemp(join(tmpdir(), "pwas-skopeo-"));
    try {
      skopeo("copy", "--src-tls-verify=false", `docker://${registry.host}/filters/skopeo:v1`, `oci:${dir}:v1`);
      const copy = await readLayout(dir);
      assert.equal(copy.manifestDigest, pushed.digest);
      const manifest = JSON.parse(copy.manifest.toString("utf8"));
      const { variant, layer } = wasmLayer(manifest);
      assert.ok(wasmFromLayer(variant, copy.blobs.get(layer.digest)!).equals(wasm));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
