import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { envoyExtensionPolicy } from "../../deploy/envoyextensionpolicy.js";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";

const DIGEST = "a".repeat(64);
const IMAGE = `oci://ghcr.io/me/filter:v1@sha256:${DIGEST}`;

describe("generate envoyextensionpolicy", () => {
  it("runs an OCI image (code type Image) with every wasm field", () => {
    const policy = envoyExtensionPolicy({
      name: "add-header",
      namespace: "gateways",
      url: IMAGE,
      sha256: DIGEST,
      rootId: "add_header",
      pluginConfig: { header: "x-hello" },
      failOpen: true,
      targetRefs: ["Gateway/eg", "HTTPRoute/backend"],
      pullPolicy: "Always",
      pullSecret: "registry-login",
      hostEnv: ["POD_NAME", "API_TOKEN"],
    });
    assert.deepEqual(policy, {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "EnvoyExtensionPolicy",
      metadata: { name: "add-header", namespace: "gateways" },
      spec: {
        targetRefs: [
          { group: "gateway.networking.k8s.io", kind: "Gateway", name: "eg" },
          { group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "backend" },
        ],
        wasm: [
          {
            name: "add-header",
            rootID: "add_header",
            code: {
              type: "Image",
              image: { url: `ghcr.io/me/filter:v1@sha256:${DIGEST}`, sha256: DIGEST, pullSecretRef: { kind: "Secret", name: "registry-login" } },
              pullPolicy: "Always",
            },
            config: { header: "x-hello" },
            failOpen: true,
            env: { hostKeys: ["POD_NAME", "API_TOKEN"] },
          },
        ],
      },
    });
  });

  it("runs an http(s) module (code type HTTP), and targets a listener by section name", () => {
    const policy = envoyExtensionPolicy({ name: "p", url: "https://example.com/plugin.wasm", sha256: "b".repeat(64), targetRefs: ["Gateway/eg:http"] }) as any;
    assert.deepEqual(policy.spec.wasm[0].code, { type: "HTTP", http: { url: "https://example.com/plugin.wasm", sha256: "b".repeat(64) } });
    assert.deepEqual(policy.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "eg", sectionName: "http" }]);
  });

  it("refuses what Envoy Gateway cannot do, saying why", () => {
    const base = { name: "p", url: IMAGE, targetRefs: ["Gateway/eg"] };
    assert.throws(() => envoyExtensionPolicy({ ...base, targetRefs: [] }), /at least one --target-ref/);
    assert.throws(() => envoyExtensionPolicy({ ...base, targetRefs: ["Service/s"] }), /bad --target-ref kind "Service": one of Gateway, ListenerSet, HTTPRoute/);
    assert.throws(() => envoyExtensionPolicy({ ...base, url: "file:///p.wasm" }), /the scheme must be one of oci:\/\/, https:\/\/, http:\/\//);
    assert.throws(() => envoyExtensionPolicy({ ...base, url: "https://example.com/p.wasm", pullSecret: "s" }), /--pull-secret applies to oci:\/\/ images only/);
    assert.throws(() => envoyExtensionPolicy({ ...base, sha256: "c".repeat(64) }), /contradicts the digest/);
    assert.throws(() => envoyExtensionPolicy({ ...base, url: "https://example.com/p .wasm" }), /must be percent-encoded/);
  });

  describe("against Envoy Gateway's EnvoyExtensionPolicy schema", { skip: schemasUnavailable }, () => {
    const cases: [string, Parameters<typeof envoyExtensionPolicy>[0]][] = [
      ["minimal image", { name: "p", url: "oci://ghcr.io/me/filter:v1", targetRefs: ["Gateway/eg"] }],
      ["full image", {
        name: "p", namespace: "ns", url: IMAGE, sha256: DIGEST, rootId: "r", pluginConfig: { a: [1] }, failOpen: true,
        targetRefs: ["Gateway/eg:http", "GRPCRoute/g"], pullPolicy: "IfNotPresent", pullSecret: "s", hostEnv: ["A"],
      }],
      ["http", { name: "p", url: "http://files.local:8080/plugin.wasm", sha256: "d".repeat(64), targetRefs: ["HTTPRoute/r"], pullPolicy: "Always" }],
    ];
    for (const [label, options] of cases) {
      it(`accepts the ${label} resource`, () => assert.deepEqual(schemaErrors(envoyExtensionPolicy(options)), []));
    }
    it("is a real check: it rejects what the API server would", () => {
      const edit = (change: (spec: any) => void) => {
        const policy = envoyExtensionPolicy({ name: "p", url: IMAGE, targetRefs: ["Gateway/eg"], pullSecret: "s" }) as any;
        change(policy.spec);
        return schemaErrors(policy).join("\n");
      };
      assert.match(edit((spec) => delete spec.targetRefs), /either targetRef or targetRefs must be used/);
      assert.match(edit((spec) => (spec.targetRefs[0].group = "")), /can only have a targetRefs\[\*\]\.group of gateway\.networking\.k8s\.io/);
      assert.match(edit((spec) => (spec.targetRefs[0].kind = "Service")), /can only have a targetRefs\[\*\]\.kind of Gateway/);
      assert.match(edit((spec) => (spec.wasm[0].code.type = "HTTP")), /If type is HTTP, http field needs to be set/);
      assert.match(edit((spec) => (spec.wasm[0].code.image.pullSecretRef.kind = "ConfigMap")), /only support Secret kind/);
      assert.match(edit((spec) => (spec.mergeType = "StrategicMerge")), /mergeType can only be used with xRoute targets/);
      assert.match(edit((spec) => (spec.wasm[0].code.image.pullSecret = "s")), /unknown field "pullSecret"/);
      assert.match(edit((spec) => (spec.wasm[0].failOpen = "yes")), /failOpen must be boolean/);
    });
    it("applies the schema's defaults before the CEL rules, as the API server does", () => {
      const policy = envoyExtensionPolicy({ name: "p", url: IMAGE, targetRefs: ["Gateway/eg"], pullSecret: "s" }) as any;
      delete policy.spec.wasm[0].code.image.pullSecretRef.kind;
      assert.deepEqual(schemaErrors(policy), []);
    });
  });
});
