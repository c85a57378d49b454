import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wasmPlugin } from "../../deploy/wasmplugin.js";
import { istioSchemaErrors, schemasUnavailable } from "./support/istio-schemas.js";

const URL = "oci://ghcr.io/me/filter:v1@sha256:" + "a".repeat(64);

describe("generate wasmplugin", () => {
  it("writes every option where Istio reads it", () => {
    const plugin = wasmPlugin({
      name: "add-header",
      namespace: "bookinfo",
      url: URL,
      sha256: "sha256:" + "b".repeat(64),
      rootId: "add_header",
      pluginConfig: { header: "x-hello", nested: { list: [1, 2] } },
      phase: "AUTHZ",
      priority: 10,
      failStrategy: "FAIL_OPEN",
      selector: ["app=reviews", "version=v1"],
      pullPolicy: "Always",
      pullSecret: "registry-login",
      type: "HTTP",
    });
    assert.deepEqual(plugin, {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "WasmPlugin",
      metadata: { name: "add-header", namespace: "bookinfo" },
      spec: {
        url: URL,
        sha256: "b".repeat(64),
        imagePullPolicy: "Always",
        imagePullSecret: "registry-login",
        pluginName: "add_header",
        phase: "AUTHZ",
        priority: 10,
        failStrategy: "FAIL_OPEN",
        type: "HTTP",
        selector: { matchLabels: { app: "reviews", version: "v1" } },
        pluginConfig: { header: "x-hello", nested: { list: [1, 2] } },
      },
    });
  });

  it("names Gateway API targets with their group", () => {
    const plugin = wasmPlugin({ name: "p", url: URL, targetRefs: ["Gateway/edge", "Service/reviews"] });
    assert.deepEqual((plugin.spec as any).targetRefs, [
      { group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" },
      { group: "", kind: "Service", name: "reviews" },
    ]);
  });

  it("refuses what Istio would refuse, with the flag in the reason", () => {
    assert.throws(() => wasmPlugin({ name: "p", url: URL, phase: "PostAuthZ" }), /bad --phase "PostAuthZ": one of AUTHN, AUTHZ, STATS/);
    assert.throws(() => wasmPlugin({ name: "p", url: URL, sha256: "xyz" }), /bad --sha256/);
    assert.throws(() => wasmPlugin({ name: "P_bad", url: URL }), /bad name "P_bad"/);
    assert.throws(() => wasmPlugin({ name: "p", url: "ftp://x/y" }), /scheme must be oci, https, http or file/);
    assert.throws(() => wasmPlugin({ name: "p", url: URL, selector: ["a=b"], targetRefs: ["Gateway/g"] }), /either --selector or --target-ref/);
    assert.throws(() => wasmPlugin({ name: "p", url: URL, selector: ["novalue"] }), /bad label "novalue"/);
    assert.throws(() => wasmPlugin({ name: "p", url: URL, targetRefs: ["edge"] }), /expected KIND\/NAME/);
  });

  describe("against Istio's WasmPlugin schema", { skip: schemasUnavailable }, () => {
    const cases: [string, Parameters<typeof wasmPlugin>[0]][] = [
      ["minimal", { name: "p", url: URL }],
      ["full", { name: "p", namespace: "ns", url: URL, sha256: "c".repeat(64), rootId: "r", pluginConfig: { a: 1 }, phase: "STATS", priority: -3, failStrategy: "FAIL_CLOSE", selector: ["app=x"], pullPolicy: "IfNotPresent", pullSecret: "s", type: "NETWORK" }],
      ["target refs", { name: "p", url: "https://example.com/plugin.wasm", targetRefs: ["Gateway/g", "ServiceEntry/se"] }],
    ];
    for (const [label, options] of cases) {
      it(`accepts the ${label} resource`, () => assert.deepEqual(istioSchemaErrors(wasmPlugin(options)), []));
    }
    it("is a real check: it rejects a phase Istio does not know", () => {
      const plugin = wasmPlugin({ name: "p", url: URL }) as any;
      plugin.spec.phase = "PostAuthZ";
      assert.notDeepEqual(istioSchemaErrors(plugin), []);
    });
  });
});
