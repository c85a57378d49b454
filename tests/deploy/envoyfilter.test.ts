import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { envoyFilter } from "../../deploy/envoyfilter.js";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";

const SHA = "d".repeat(64);

describe("generate envoyfilter", () => {
  it("inserts the wasm filter before the router with remote code pinned by sha256", () => {
    const filter = envoyFilter({
      name: "add-header",
      namespace: "bookinfo",
      url: "https://example.com:8443/filters/plugin.wasm",
      sha256: SHA,
      rootId: "add_header",
      configuration: '{"header":"x-hello"}',
      selector: ["app=reviews"],
      failStrategy: "FAIL_OPEN",
    }) as any;
    assert.equal(filter.apiVersion, "networking.istio.io/v1alpha3");
    assert.deepEqual(filter.spec.workloadSelector, { labels: { app: "reviews" } });
    const [patch] = filter.spec.configPatches;
    assert.equal(patch.applyTo, "HTTP_FILTER");
    assert.equal(patch.match.context, "SIDECAR_INBOUND");
    assert.equal(patch.match.listener.filterChain.filter.subFilter.name, "envoy.filters.http.router");
    assert.equal(patch.patch.operation, "INSERT_BEFORE");
    assert.equal(patch.patch.value.name, "envoy.filters.http.wasm");
    const config = patch.patch.value.typed_config.config;
    assert.equal(patch.patch.value.typed_config["@type"], "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
    assert.equal(config.name, "bookinfo.add-header");
    assert.equal(config.root_id, "add_header");
    assert.equal(config.fail_open, true);
    assert.deepEqual(config.configuration, { "@type": "type.googleapis.com/google.protobuf.StringValue", value: '{"header":"x-hello"}' });
    assert.deepEqual(config.vm_config.code, {
      remote: { http_uri: { uri: "https://example.com:8443/filters/plugin.wasm", cluster: "outbound|8443||example.com", timeout: "10s" }, sha256: SHA },
    });
  });

  it("reads a file:// module from the proxy's disk", () => {
    const filter = envoyFilter({ name: "f", url: "file:///var/local/wasm/plugin.wasm", context: "GATEWAY" }) as any;
    const patch = filter.spec.configPatches[0];
    assert.equal(patch.match.context, "GATEWAY");
    assert.deepEqual(patch.patch.value.typed_config.config.vm_config.code, { local: { filename: "/var/local/wasm/plugin.wasm" } });
  });

  it("refuses oci:// urls and remote code without a checksum", () => {
    assert.throws(() => envoyFilter({ name: "f", url: "oci://ghcr.io/me/f:v1" }), /generate wasmplugin/);
    assert.throws(() => envoyFilter({ name: "f", url: "https://example.com/p.wasm" }), /needs --sha256/);
    assert.throws(() => envoyFilter({ name: "f", url: "file:///p.wasm", context: "INBOUND" }), /bad --context/);
  });

  it("sets allow_on_headers_stop_iteration, which WasmPlugin cannot", () => {
    const filter = envoyFilter({ name: "f", url: "file:///p.wasm", allowOnHeadersStopIteration: true }) as any;
    assert.equal(filter.spec.configPatches[0].patch.value.typed_config.config.allow_on_headers_stop_iteration, true);
    const plain = envoyFilter({ name: "f", url: "file:///p.wasm" }) as any;
    assert.equal(plain.spec.configPatches[0].patch.value.typed_config.config.allow_on_headers_stop_iteration, undefined);
  });

  it("passes Istio's EnvoyFilter schema", { skip: schemasUnavailable }, () => {
    for (const options of [
      { name: "a", url: "https://example.com/p.wasm", sha256: SHA, selector: ["app=x"], priority: 5 },
      { name: "b", namespace: "ns", url: "file:///p.wasm", context: "SIDECAR_OUTBOUND", configuration: "raw", allowOnHeadersStopIteration: true },
    ]) {
      assert.deepEqual(schemaErrors(envoyFilter(options)), []);
    }
  });
});
