import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trafficExtension } from "../../deploy/trafficextension.js";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";

const URL = "oci://ghcr.io/me/filter:v1@sha256:" + "a".repeat(64);

describe("generate trafficextension", () => {
  it("puts placement in spec and the module with its options under spec.wasm", () => {
    const extension = trafficExtension({
      name: "add-header",
      namespace: "bookinfo",
      url: URL,
      sha256: "a".repeat(64),
      rootId: "add_header",
      pluginConfig: { header: "x-hello" },
      phase: "AUTHN",
      priority: 5,
      failStrategy: "FAIL_RELOAD",
      selector: ["app=reviews"],
      pullPolicy: "IfNotPresent",
      pullSecret: "registry-login",
      type: "HTTP",
      match: ["SERVER:8080"],
      env: ["MODE=strict"],
      hostEnv: ["POD_NAME"],
    });
    assert.deepEqual(extension, {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "TrafficExtension",
      metadata: { name: "add-header", namespace: "bookinfo" },
      spec: {
        selector: { matchLabels: { app: "reviews" } },
        phase: "AUTHN",
        priority: 5,
        match: [{ mode: "SERVER", ports: [{ number: 8080 }] }],
        wasm: {
          url: URL,
          sha256: "a".repeat(64),
          imagePullPolicy: "IfNotPresent",
          imagePullSecret: "registry-login",
          pluginName: "add_header",
          failStrategy: "FAIL_RELOAD",
          type: "HTTP",
          vmConfig: { env: [{ name: "MODE", valueFrom: "INLINE", value: "strict" }, { name: "POD_NAME", valueFrom: "HOST" }] },
          pluginConfig: { header: "x-hello" },
        },
      },
    });
  });

  it("attaches to Gateway API targets instead of a selector, never both", () => {
    const extension = trafficExtension({ name: "p", url: "https://example.com/plugin.wasm", targetRefs: ["Gateway/edge"] }) as any;
    assert.deepEqual(extension.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" }]);
    assert.equal(extension.spec.selector, undefined);
    assert.throws(() => trafficExtension({ name: "p", url: URL, selector: ["a=b"], targetRefs: ["Gateway/g"] }), /either --selector or --target-ref/);
    assert.throws(() => trafficExtension({ name: "p", url: "oci://ghcr.io/me/f:v1\n" }), /bad --url "oci:\/\/ghcr.io\/me\/f:v1\\n"/);
  });

  describe("against Istio's TrafficExtension schema", { skip: schemasUnavailable }, () => {
    const cases: [string, Parameters<typeof trafficExtension>[0]][] = [
      ["minimal", { name: "p", url: URL }],
      ["full", {
        name: "p", namespace: "ns", url: "oci://ghcr.io/me/filter:v2", sha256: "c".repeat(64), rootId: "r", pluginConfig: { a: [1, { b: 2 }] },
        phase: "STATS", priority: -3, failStrategy: "FAIL_RELOAD", selector: ["app=x", "tier=web"], pullPolicy: "Always", pullSecret: "s",
        type: "NETWORK", match: ["CLIENT:80,443", "SERVER", "9090"], env: ["A=1", "B="], hostEnv: ["C"],
      }],
      ["target refs", { name: "p", url: "https://example.com/plugin.wasm", targetRefs: ["Gateway/g", "Service/s"], failStrategy: "FAIL_OPEN" }],
      ["file url", { name: "p", url: "file:///var/lib/plugin.wasm", failStrategy: "FAIL_CLOSE" }],
    ];
    for (const [label, options] of cases) {
      it(`accepts the ${label} resource`, () => assert.deepEqual(schemaErrors(trafficExtension(options)), []));
    }
    it("is a real check: it rejects what the API server would", () => {
      const edit = (change: (spec: any) => void) => {
        const extension = trafficExtension({ name: "p", url: URL, selector: ["app=x"] }) as any;
        change(extension.spec);
        return schemaErrors(extension).join("\n");
      };
      assert.match(edit((spec) => (spec.targetRefs = [{ kind: "Gateway", name: "g" }])), /only one of targetRefs or selector can be set/);
      assert.match(edit((spec) => (spec.lua = { inlineCode: "x" })), /exactly one of wasm or lua must be set/);
      assert.match(edit((spec) => delete spec.wasm), /exactly one of wasm or lua must be set/);
      assert.match(edit((spec) => (spec.targetRef = { kind: "Gateway", name: "g" })), /unknown field "targetRef"/);
      assert.match(edit((spec) => (spec.phase = "UNSPECIFIED_PHASE")), /phase must be equal to one of the allowed values/);
      assert.match(edit((spec) => (spec.wasm.vmConfig = { env: [{ name: "A", valueFrom: "HOST", value: "x" }] })), /value may only be set when valueFrom is INLINE/);
      assert.match(edit((spec) => (spec.wasm.sha256 = "ABC")), /sha256 must match pattern/);
    });
  });
});
