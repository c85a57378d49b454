import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEnv, parseMatch } from "../../deploy/istio-wasm.js";
import { wasmPlugin } from "../../deploy/wasmplugin.js";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";

const PINNED = "oci://ghcr.io/me/filter:v1@sha256:" + "a".repeat(64);
const TAGGED = "oci://ghcr.io/me/filter:v1";

describe("generate wasmplugin", () => {
  it("writes every option where Istio reads it", () => {
    const plugin = wasmPlugin({
      name: "add-header",
      namespace: "bookinfo",
      url: TAGGED,
      sha256: "sha256:" + "b".repeat(64),
      rootId: "add_header",
      pluginConfig: { header: "x-hello", nested: { list: [1, 2] } },
      phase: "AUTHZ",
      priority: 10,
      failStrategy: "FAIL_RELOAD",
      selector: ["app=reviews", "version=v1"],
      pullPolicy: "Always",
      pullSecret: "registry-login",
      type: "HTTP",
      match: ["SERVER:8080,9090", "CLIENT"],
      env: ["LOG_LEVEL=debug", "EMPTY="],
      hostEnv: ["POD_NAME"],
    });
    assert.deepEqual(plugin, {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "WasmPlugin",
      metadata: { name: "add-header", namespace: "bookinfo" },
      spec: {
        url: TAGGED,
        sha256: "b".repeat(64),
        imagePullPolicy: "Always",
        imagePullSecret: "registry-login",
        pluginName: "add_header",
        phase: "AUTHZ",
        priority: 10,
        failStrategy: "FAIL_RELOAD",
        type: "HTTP",
        selector: { matchLabels: { app: "reviews", version: "v1" } },
        match: [{ mode: "SERVER", ports: [{ number: 8080 }, { number: 9090 }] }, { mode: "CLIENT" }],
        vmConfig: {
          env: [
            { name: "LOG_LEVEL", valueFrom: "INLINE", value: "debug" },
            { name: "EMPTY", valueFrom: "INLINE", value: "" },
            { name: "POD_NAME", valueFrom: "HOST" },
          ],
        },
        pluginConfig: { header: "x-hello", nested: { list: [1, 2] } },
      },
    });
  });

  it("names Gateway API targets with their group", () => {
    const plugin = wasmPlugin({ name: "p", url: PINNED, targetRefs: ["Gateway/edge", "Service/reviews"] });
    assert.deepEqual((plugin.spec as any).targetRefs, [
      { group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" },
      { group: "", kind: "Service", name: "reviews" },
    ]);
  });

  it("reads traffic selectors: a mode, ports, or both", () => {
    assert.deepEqual(parseMatch("CLIENT_AND_SERVER"), { mode: "CLIENT_AND_SERVER" });
    assert.deepEqual(parseMatch("8443"), { ports: [{ number: 8443 }] });
    assert.deepEqual(parseMatch("SERVER:80,443"), { mode: "SERVER", ports: [{ number: 80 }, { number: 443 }] });
    assert.throws(() => parseMatch("INBOUND"), /bad --match mode "INBOUND": one of CLIENT, SERVER, CLIENT_AND_SERVER/);
    assert.throws(() => parseMatch("SERVER:0"), /bad --match "SERVER:0": ports are 1-65535/);
    assert.throws(() => parseMatch("SERVER:70000"), /ports are 1-65535/);
    assert.throws(() => parseMatch("SERVER:80,80"), /a port is listed twice/);
    assert.throws(() => parseMatch(":"), /expected MODE/);
  });

  it("reads environment variables and refuses clashes", () => {
    assert.deepEqual(parseEnv(["A=1=2"], ["B"]), [{ name: "A", valueFrom: "INLINE", value: "1=2" }, { name: "B", valueFrom: "HOST" }]);
    assert.throws(() => parseEnv(["NOVALUE"]), /bad --env "NOVALUE": expected NAME=VALUE/);
    assert.throws(() => parseEnv(["=x"]), /a variable name is 1-256 characters/);
    assert.throws(() => parseEnv([], ["A=B"]), /bad --host-env "A=B"/);
    assert.throws(() => parseEnv(["A=1"], ["A"]), /environment variable A is given twice/);
    assert.throws(() => parseEnv([`A=${"x".repeat(2049)}`]), /at most 2048 characters/);
    assert.throws(() => parseEnv(Array.from({ length: 257 }, (_, i) => `V${i}=x`)), /at most 256 environment variables/);
  });

  it("refuses what Istio would refuse, with the flag in the reason", () => {
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, phase: "PostAuthZ" }), /bad --phase "PostAuthZ": one of AUTHN, AUTHZ, STATS/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, sha256: "xyz" }), /bad --sha256/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, sha256: "b".repeat(64) }), /contradicts the digest the url pins/);
    assert.throws(() => wasmPlugin({ name: "P_bad", url: PINNED }), /bad name "P_bad"/);
    assert.throws(() => wasmPlugin({ name: "p", url: "ftp://x/y" }), /bad --url "ftp:\/\/x\/y": the scheme must be one of oci:\/\/, https:\/\/, http:\/\/, file:\/\//);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, selector: ["a=b"], targetRefs: ["Gateway/g"] }), /either --selector or --target-ref/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, selector: ["novalue"] }), /bad label "novalue"/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, targetRefs: ["edge"] }), /expected KIND\/NAME/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, failStrategy: "FAIL_CLOSED" }), /one of FAIL_CLOSE, FAIL_OPEN, FAIL_RELOAD/);
    assert.throws(() => wasmPlugin({ name: "p", url: PINNED, rootId: "x".repeat(257) }), /bad --root-id/);
  });

  describe("against Istio's WasmPlugin schema", { skip: schemasUnavailable }, () => {
    const cases: [string, Parameters<typeof wasmPlugin>[0]][] = [
      ["minimal", { name: "p", url: PINNED }],
      ["full", {
        name: "p", namespace: "ns", url: TAGGED, sha256: "c".repeat(64), rootId: "r", pluginConfig: { a: 1 }, phase: "STATS", priority: -3,
        failStrategy: "FAIL_RELOAD", selector: ["app=x"], pullPolicy: "IfNotPresent", pullSecret: "s", type: "NETWORK",
        match: ["CLIENT:80,443", "SERVER"], env: ["A=1"], hostEnv: ["B"],
      }],
      ["target refs", { name: "p", url: "https://example.com/plugin.wasm", targetRefs: ["Gateway/g", "ServiceEntry/se"], failStrategy: "FAIL_OPEN" }],
      ["file url", { name: "p", url: "file:///var/lib/plugin.wasm", match: ["8080"] }],
    ];
    for (const [label, options] of cases) {
      it(`accepts the ${label} resource`, () => assert.deepEqual(schemaErrors(wasmPlugin(options)), []));
    }
    it("is a real check: it rejects what the API server would", () => {
      const edit = (change: (spec: any) => void) => {
        const plugin = wasmPlugin({ name: "p", url: PINNED, selector: ["app=x"] }) as any;
        change(plugin.spec);
        return schemaErrors(plugin).join("\n");
      };
      assert.match(edit((spec) => (spec.phase = "PostAuthZ")), /phase must be equal to one of the allowed values/);
      assert.match(edit((spec) => (spec.targetRefs = [{ kind: "Gateway", name: "g" }])), /only one of targetRefs or selector can be set/);
      assert.match(edit((spec) => (spec.url = "ftp://x/y")), /url must have schema one of/);
      assert.match(edit((spec) => (spec.url = "oci://a.io/b\nc")), /url must have schema one of/);
      assert.match(edit((spec) => (spec.vmConfig = { env: [{ name: "A", valueFrom: "HOST", value: "x" }] })), /value may only be set when valueFrom is INLINE/);
      assert.match(edit((spec) => (spec.vmConfig = { env: [{ name: "A", value: "1" }, { name: "A", value: "2" }] })), /duplicate entries in a list of type map/);
      assert.match(edit((spec) => (spec.match = [{ ports: [{ number: 80 }, { number: 80 }] }])), /duplicate entries/);
      assert.match(edit((spec) => (spec.selector.matchLabels = { "a*": "b" })), /wildcard not allowed in label key match/);
      assert.match(edit((spec) => (spec.imagePullSecrets = "typo")), /unknown field "imagePullSecrets"/);
      assert.match(edit((spec) => (spec.failStrategy = "FAIL_CLOSED")), /failStrategy must be equal to one of the allowed values/);
    });
  });
});
