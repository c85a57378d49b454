import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { migrate } from "../../deploy/migrate.js";
import { readTextFile } from "../../deploy/read-text.js";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";

// Fixtures stay in the source tree; from dist/tests/deploy that is three levels up.
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "tests", "fixtures", "migrate");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

describe("migrate", () => {
  it("turns wasme FilterDeployments into WasmPlugins", () => {
    const { resources: plugins, notes } = migrate(fixture("filterdeployments.yaml"), "fd.yaml");
    assert.deepEqual(plugins[0], {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "WasmPlugin",
      metadata: { name: "add-header", namespace: "bookinfo" },
      spec: {
        url: "oci://webassemblyhub.io/ilackarms/add-header:v0.1",
        pluginName: "add_header",
        selector: { matchLabels: { app: "reviews" } },
        pluginConfig: { header: "x-hello", value: "world" },
        match: [{ mode: "SERVER" }],
      },
    });
    assert.deepEqual(plugins[1], {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "WasmPlugin",
      metadata: { name: "rate-limit", namespace: "shop" },
      spec: {
        url: "oci://registry.example.com/filters/rate-limit:1.2",
        imagePullSecret: "registry-login",
        pluginName: "rate_limit",
        pluginConfig: { limit: 10, paths: ["/api", "/cart"] },
        match: [{ mode: "CLIENT" }],
      },
    });
    const text = notes.join("\n");
    assert.match(text, /FilterDeployment add-header: webassemblyhub\.io no longer serves images/);
    assert.match(text, /deployment\.istio\.kind "Deployment" is dropped/);
    assert.match(text, /FilterDeployment rate-limit: filter\.id "rl" is not kept/);
    assert.match(text, /WASM_INSECURE_REGISTRIES/);
    assert.match(text, /istioNamespace "mesh-system"/);
    assert.match(text, /kubernetes\.io\/dockerconfigjson/);
  });

  it("turns ServiceMeshExtensions into WasmPlugins, mapping phases and keeping priority", () => {
    const { resources: plugins, notes } = migrate(fixture("servicemeshextensions.yaml"), "sme.yaml");
    assert.deepEqual(plugins[0], {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "WasmPlugin",
      metadata: { name: "header-append", namespace: "istio-system" },
      spec: {
        url: "oci://quay.io/maistra-dev/header-append-filter:2.2",
        phase: "STATS",
        priority: 100,
        selector: { matchLabels: { app: "httpbin" } },
        pluginConfig: { "first-header": "some-value", "another-header": "another-value" },
      },
    });
    const greeting = plugins[1].spec as Record<string, unknown>;
    assert.equal(greeting.phase, undefined);
    assert.equal(greeting.priority, -5);
    assert.deepEqual(greeting.pluginConfig, { value: "test" });
    assert.equal((plugins[2].spec as Record<string, unknown>).phase, "AUTHN");
    const text = notes.join("\n");
    assert.match(text, /ServiceMeshExtension greeting: its config is the plain string "test"/);
    assert.match(text, /ServiceMeshExtension greeting: phase PostStats has no WasmPlugin phase/);
    assert.match(text, /ServiceMeshExtension header-append: Maistra extension images hold manifest\.yaml/);
  });

  it("maps every Maistra phase", () => {
    const expected: Record<string, string | undefined> = {
      PreAuthN: "AUTHN", PostAuthN: "AUTHZ", PreAuthZ: "AUTHZ", PostAuthZ: "STATS", PreStats: "STATS", PostStats: undefined,
    };
    for (const [phase, wanted] of Object.entries(expected)) {
      const yaml = `apiVersion: maistra.io/v1\nkind: ServiceMeshExtension\nmetadata: {name: x}\nspec: {image: quay.io/a/b:1, phase: ${phase}}\n`;
      assert.equal((migrate(yaml, "x.yaml").resources[0].spec as Record<string, unknown>).phase, wanted, phase);
    }
    const bad = "apiVersion: maistra.io/v1\nkind: ServiceMeshExtension\nmetadata: {name: x}\nspec: {image: a/b, phase: Later}\n";
    assert.throws(() => migrate(bad, "x.yaml"), /x\.yaml: ServiceMeshExtension x: its phase "Later"/);
  });

  it("converts every document of a mixed file and skips the rest with a note", () => {
    const { resources: plugins, notes } = migrate(fixture("mixed.yaml"), "mixed.yaml");
    assert.deepEqual(plugins.map((p) => (p.metadata as { name: string }).name), ["stats-plugin", "plain"]);
    assert.match(notes.join("\n"), /ConfigMap unrelated: not a wasme FilterDeployment, Maistra ServiceMeshExtension or Istio WasmPlugin/);
    assert.throws(() => migrate("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "cm.yaml"), /cm\.yaml holds nothing to turn into a WasmPlugin/);
    assert.throws(() => migrate("- a\n- b\n", "list.yaml"), /list\.yaml: document 1 is not a Kubernetes resource/);
    assert.throws(() => migrate("a: [", "broken.yaml"), /broken\.yaml: document 1/);
  });

  it("writes WasmPlugins that pass Istio's schema", { skip: schemasUnavailable }, () => {
    for (const file of ["filterdeployments.yaml", "servicemeshextensions.yaml", "mixed.yaml"]) {
      for (const plugin of migrate(fixture(file), file).resources) assert.deepEqual(schemaErrors(plugin), [], file);
    }
  });

  it("turns WasmPlugins into TrafficExtensions, field for field", () => {
    const { resources, notes } = migrate(fixture("wasmplugins.yaml"), "wp.yaml", "TrafficExtension");
    assert.deepEqual(resources[0], {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "TrafficExtension",
      metadata: { name: "openid-connect", namespace: "istio-ingress", labels: { team: "edge" }, annotations: { owner: "edge-team" } },
      spec: {
        selector: { matchLabels: { istio: "ingressgateway" } },
        phase: "AUTHN",
        priority: 20,
        match: [{ mode: "SERVER", ports: [{ number: 8443 }] }],
        wasm: {
          url: "oci://ghcr.io/example/openid:1.0",
          sha256: "a".repeat(64),
          imagePullPolicy: "IfNotPresent",
          imagePullSecret: "private-registry",
          failStrategy: "FAIL_RELOAD",
          pluginName: "openid",
          type: "HTTP",
          vmConfig: { env: [{ name: "POD_NAME", valueFrom: "HOST" }, { name: "TRUST_DOMAIN", value: "cluster.local" }] },
          pluginConfig: { openid_server: "authn", openid_realm: "ingress" },
        },
      },
    });
    assert.deepEqual(resources[1].spec, {
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" }],
      wasm: { url: "https://example.com/stats.wasm", imagePullPolicy: "UNSPECIFIED_POLICY", type: "UNSPECIFIED_PLUGIN_TYPE" },
    });
    assert.deepEqual(resources[2].spec, { wasm: { url: "file:///var/local/wasm/legacy.wasm", verificationKey: "unused" } });
    const text = notes.join("\n");
    assert.match(text, /WasmPlugin legacy: spec\.somethingNew has no TrafficExtension equivalent; dropped/);
    assert.match(text, /WasmPlugin openid-connect: delete the WasmPlugin once the TrafficExtension is applied/);
    assert.throws(() => migrate(fixture("wasmplugins.yaml"), "wp.yaml"), /wp\.yaml holds nothing to turn into a WasmPlugin/);
    assert.throws(() => migrate("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: x}\nspec: {}\n", "x.yaml", "TrafficExtension"), /x\.yaml: WasmPlugin x: it has no spec\.url/);
  });

  it("turns wasme and Maistra resources into TrafficExtensions", () => {
    const { resources, notes } = migrate(fixture("filterdeployments.yaml"), "fd.yaml", "TrafficExtension");
    assert.deepEqual(resources[0], {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "TrafficExtension",
      metadata: { name: "add-header", namespace: "bookinfo" },
      spec: {
        selector: { matchLabels: { app: "reviews" } },
        match: [{ mode: "SERVER" }],
        wasm: { url: "oci://webassemblyhub.io/ilackarms/add-header:v0.1", pluginName: "add_header", pluginConfig: { header: "x-hello", value: "world" } },
      },
    });
    assert.match(notes.join("\n"), /have no TrafficExtension field/);
    const sme = migrate(fixture("servicemeshextensions.yaml"), "sme.yaml", "TrafficExtension").resources;
    assert.deepEqual(sme.map((r) => [r.kind, (r.spec as any).phase, (r.spec as any).priority]), [
      ["TrafficExtension", "STATS", 100], ["TrafficExtension", undefined, -5], ["TrafficExtension", "AUTHN", undefined],
    ]);
  });

  it("writes TrafficExtensions that pass Istio's schema", { skip: schemasUnavailable }, () => {
    for (const file of ["filterdeployments.yaml", "servicemeshextensions.yaml", "mixed.yaml", "wasmplugins.yaml"]) {
      for (const resource of migrate(fixture(file), file, "TrafficExtension").resources) assert.deepEqual(schemaErrors(resource), [], file);
    }
  });

  it("reads WasmPlugins that pass Istio's schema (the fixture is realistic)", { skip: schemasUnavailable }, () => {
    for (const document of parseAllDocuments(fixture("wasmplugins.yaml"))) {
      const plugin = document.toJS();
      delete plugin.spec.somethingNew;
      delete plugin.status;
      assert.deepEqual(schemaErrors(plugin), [], plugin.metadata.name);
    }
  });

  it("reads its input within a limit, and only from a regular file", async () => {
    assert.equal(await readTextFile(join(FIXTURES, "mixed.yaml"), 4096), fixture("mixed.yaml"));
    await assert.rejects(readTextFile(join(FIXTURES, "mixed.yaml"), 100), /mixed\.yaml is \d+ bytes; the limit is 100/);
    await assert.rejects(readTextFile("/dev/zero", 100), /\/dev\/zero is not a file/);
    await assert.rejects(readTextFile(FIXTURES, 100), /is not a file/);
    await assert.rejects(readTextFile(join(FIXTURES, "nope.yaml"), 100), /cannot read .*nope\.yaml: ENOENT/);
  });
});
