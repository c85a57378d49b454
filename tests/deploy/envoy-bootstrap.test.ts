import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeFile } from "../../deploy/compose.js";
import { envoyBootstrap, parseCluster, parseEndpoint } from "../../deploy/envoy-bootstrap.js";

describe("generate envoy", () => {
  it("wires listener, wasm filter, router, upstream and callout clusters, and admin", () => {
    const bootstrap = envoyBootstrap({
      wasmPath: "/etc/envoy/plugin.wasm",
      rootId: "my_root",
      configuration: '{"a":1}',
      upstream: parseEndpoint("httpbin.org:80", "--upstream"),
      clusters: Object.fromEntries([parseCluster("auth=127.0.0.1:9000")]),
    }) as any;
    assert.deepEqual(bootstrap.admin.address.socket_address, { address: "0.0.0.0", port_value: 9901 });
    const [listener] = bootstrap.static_resources.listeners;
    assert.equal(listener.address.socket_address.port_value, 10000);
    const hcm = listener.filter_chains[0].filters[0];
    assert.equal(hcm.name, "envoy.filters.network.http_connection_manager");
    const filters = hcm.typed_config.http_filters;
    assert.deepEqual(filters.map((f: any) => f.name), ["envoy.filters.http.wasm", "envoy.filters.http.router"]);
    const wasm = filters[0].typed_config.config;
    assert.equal(wasm.root_id, "my_root");
    assert.deepEqual(wasm.configuration, { "@type": "type.googleapis.com/google.protobuf.StringValue", value: '{"a":1}' });
    assert.deepEqual(wasm.vm_config.code, { local: { filename: "/etc/envoy/plugin.wasm" } });
    assert.equal(hcm.typed_config.route_config.virtual_hosts[0].routes[0].route.cluster, "upstream");
    const clusters = bootstrap.static_resources.clusters;
    assert.deepEqual(clusters.map((c: any) => [c.name, c.type]), [["upstream", "STRICT_DNS"], ["auth", "STATIC"]]);
    assert.deepEqual(clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, {
      address: "127.0.0.1",
      port_value: 9000,
    });
  });

  it("answers 200 itself when there is no upstream", () => {
    const bootstrap = envoyBootstrap({ wasmPath: "/p.wasm" }) as any;
    const route = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0];
    assert.equal(route.direct_response.status, 200);
    assert.deepEqual(bootstrap.static_resources.clusters, []);
  });

  it("refuses malformed endpoints and clusters", () => {
    assert.throws(() => parseEndpoint("localhost", "--upstream"), /bad --upstream "localhost": expected HOST:PORT/);
    assert.throws(() => parseEndpoint("h:70000", "--upstream"), /bad --upstream/);
    assert.throws(() => parseCluster("127.0.0.1:80"), /expected NAME=HOST:PORT/);
    assert.throws(() => envoyBootstrap({ wasmPath: "/p", upstream: { host: "h", port: 1 }, clusters: { upstream: { host: "h", port: 2 } } }), /clashes/);
  });

  it("runs the bootstrap with the official Envoy image in compose", () => {
    const compose = composeFile({ pluginPath: "../build/plugin.wasm", bootstrapPath: "./envoy.yaml" }) as any;
    assert.match(compose.services.envoy.image, /^envoyproxy\/envoy:/);
    assert.deepEqual(compose.services.envoy.volumes, ["./envoy.yaml:/etc/envoy/envoy.yaml:ro", "../build/plugin.wasm:/etc/envoy/plugin.wasm:ro"]);
    assert.deepEqual(compose.services.envoy.ports, ["10000:10000", "9901:9901"]);
  });
});
