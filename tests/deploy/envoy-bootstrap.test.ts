import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeFile } from "../../deploy/compose.js";
import { envoyBootstrap, parseCluster, parseEndpoint } from "../../deploy/envoy-bootstrap.js";
import { envoyFilter } from "../../deploy/envoyfilter.js";
import { parseEnv } from "../../deploy/istio-wasm.js";
import { parseBackoff, parseDuration } from "../../deploy/wasm-filter.js";
import { bootstrapErrors, wasmFilterErrors } from "./support/envoy-proto.js";

const wasmFilterOf = (bootstrap: any) => bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0];

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

  it("writes failure_policy, its reload backoff, VM environment variables and allow_on_headers_stop_iteration", () => {
    const bootstrap = envoyBootstrap({
      wasmPath: "/p.wasm",
      failurePolicy: "FAIL_RELOAD",
      reloadBackoff: parseBackoff("500ms,30s"),
      env: parseEnv(["MODE=strict", "EMPTY="], ["POD_NAME"]),
      allowOnHeadersStopIteration: true,
    });
    const config = wasmFilterOf(bootstrap).typed_config.config;
    assert.equal(config.failure_policy, "FAIL_RELOAD");
    assert.deepEqual(config.reload_config, { backoff: { base_interval: "0.5s", max_interval: "30s" } });
    assert.deepEqual(config.vm_config.environment_variables, { host_env_keys: ["POD_NAME"], key_values: { MODE: "strict", EMPTY: "" } });
    assert.equal(config.allow_on_headers_stop_iteration, true);
    assert.equal(config.fail_open, undefined, "the deprecated fail_open stays out of a bootstrap");
    const plain = wasmFilterOf(envoyBootstrap({ wasmPath: "/p.wasm" })).typed_config.config;
    for (const field of ["failure_policy", "reload_config", "allow_on_headers_stop_iteration"]) assert.equal(plain[field], undefined, field);
    assert.equal(plain.vm_config.environment_variables, undefined);
  });

  it("reads durations and backoffs with BackoffStrategy's rules", () => {
    assert.deepEqual(parseDuration("1m", "--x"), { seconds: 60, json: "60s" });
    assert.equal(parseDuration("1.5s", "--x").json, "1.5s");
    assert.equal(parseDuration("1ms", "--x").json, "0.001s");
    assert.deepEqual(parseBackoff("2s"), { base_interval: "2s" });
    assert.throws(() => parseDuration("5", "--reload-backoff"), /bad --reload-backoff "5": a duration such as 500ms, 2s or 1m/);
    assert.throws(() => parseBackoff("0.5ms"), /the base interval is at least 1ms/);
    assert.throws(() => parseBackoff("10s,1s"), /the maximum is below the base interval/);
    assert.throws(() => parseBackoff("1s,2s,3s"), /expected BASE or BASE,MAX/);
    assert.throws(() => envoyBootstrap({ wasmPath: "/p", failurePolicy: "FAIL_OPEN", reloadBackoff: parseBackoff("1s") }), /only with --failure-policy FAIL_RELOAD/);
  });

  it("writes only fields Envoy's protos declare, with their types and rules, from admin to the wasm filter", () => {
    for (const options of [
      { wasmPath: "/p.wasm", upstream: parseEndpoint("httpbin.org:80", "--upstream"), clusters: Object.fromEntries([parseCluster("auth=127.0.0.1:9000")]) },
      { wasmPath: "/p.wasm" },
      { wasmPath: "/p.wasm", rootId: "r", configuration: '{"a":1}', failurePolicy: "FAIL_OPEN" as const, env: parseEnv([], ["HOME"]) },
      { wasmPath: "/p.wasm", failurePolicy: "FAIL_RELOAD" as const, reloadBackoff: parseBackoff("1ms,1m"), env: parseEnv(["A=1"]), allowOnHeadersStopIteration: true },
      { wasmPath: "/p.wasm", failurePolicy: "FAIL_CLOSED" as const },
    ]) {
      assert.deepEqual(bootstrapErrors(envoyBootstrap(options)), [], JSON.stringify(options));
    }
    const remote = envoyFilter({ name: "f", url: "https://example.com/p.wasm", sha256: "d".repeat(64), failStrategy: "FAIL_OPEN" }) as any;
    assert.deepEqual(wasmFilterErrors(remote.spec.configPatches[0].patch.value), []);
  });

  it("is a real check: it rejects what Envoy would", () => {
    const edit = (change: (config: any) => void) => {
      const filter = wasmFilterOf(envoyBootstrap({ wasmPath: "/p.wasm", failurePolicy: "FAIL_RELOAD", reloadBackoff: parseBackoff("1s") }));
      change(filter.typed_config.config);
      return wasmFilterErrors(filter).join("\n");
    };
    assert.match(edit((config) => (config.fail_strategy = "FAIL_OPEN")), /PluginConfig has no field "fail_strategy"/);
    assert.match(edit((config) => (config.failure_policy = "FAIL_CLOSE")), /failure_policy: expected one of UNSPECIFIED, FAIL_RELOAD, FAIL_CLOSED, FAIL_OPEN/);
    assert.match(edit((config) => (config.reload_config.backoff = { base_interval: "0.0001s" })), /base_interval is at least 1ms/);
    assert.match(edit((config) => (config.reload_config.backoff = { max_interval: "1s" })), /base_interval is required/);
    assert.match(edit((config) => (config.reload_config.backoff.base_interval = "1000ms")), /expected a duration/);
    assert.match(edit((config) => (config.vm_config.environment_variables = { host_env_keys: ["A"], key_values: { A: "1" } })), /A is both a host key and a key value/);
    assert.match(edit((config) => (config.vm_config.environment_variables = { env: ["A"] })), /EnvironmentVariables has no field "env"/);
    assert.match(edit((config) => (config.vm_config.code = { local: { filename: "/a" }, remote: {} })), /exactly one of local, remote/);
    assert.match(edit((config) => (config.allow_on_headers_stop_iteration = "true")), /expected a boolean/);
  });

  it("is a real check on the whole bootstrap too", () => {
    const edit = (change: (bootstrap: any) => void) => {
      const bootstrap = envoyBootstrap({ wasmPath: "/p.wasm", upstream: parseEndpoint("127.0.0.1:8080", "--upstream") }) as any;
      change(bootstrap);
      return bootstrapErrors(bootstrap).join("\n");
    };
    const listener = (b: any) => b.static_resources.listeners[0];
    const hcm = (b: any) => listener(b).filter_chains[0].filters[0].typed_config;
    assert.match(edit((b) => (listener(b).adress = listener(b).address)), /Listener has no field "adress"/);
    assert.match(edit((b) => (b.admin.address.socket_address.port_value = "9901")), /port_value: expected a uint32/);
    assert.match(edit((b) => (hcm(b)["@type"] = "type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager")), /unexpected @type/);
    assert.match(edit((b) => (hcm(b).route_config.virtual_hosts[0].routes[0].route.cluster = "")), /cluster is at least 1 character/);
    assert.match(edit((b) => (b.static_resources.clusters[0].type = "DNS")), /type: expected one of STATIC, STRICT_DNS/);
    assert.match(edit((b) => (b.static_resources.clusters[0].connect_timeout = 5)), /connect_timeout: expected a duration/);
    assert.match(edit((b) => (hcm(b).http_filters[1].typed_config.dynamic_stats = true)), /Router\.dynamic_stats is written but not typed/);
    assert.match(edit((b) => delete hcm(b).route_config.virtual_hosts[0].routes[0].route), /exactly one of route, redirect, direct_response/);
  });
});
