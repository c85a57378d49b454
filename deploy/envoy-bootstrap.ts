// A static Envoy bootstrap that runs one Wasm filter without a control plane: a listener on 10000
// with http_connection_manager -> the wasm filter -> the router, the upstream cluster and the
// clusters the filter calls out to, and the admin interface on 9901.
import type { EnvEntry } from "./istio-wasm.js";
import { wasmHttpFilter, type Backoff, type FailurePolicy } from "./wasm-filter.js";

const LISTENER_PORT = 10000;
const ADMIN_PORT = 9901;

export interface Endpoint {
  host: string;
  port: number;
}

export interface BootstrapOptions {
  /** Where Envoy reads the module (a path inside the container when run with compose). */
  wasmPath: string;
  name?: string;
  rootId?: string;
  configuration?: string;
  /** Where requests go after the filter; without one Envoy answers 200 itself. */
  upstream?: Endpoint;
  /** Clusters the filter names in dispatch_http_call / grpc_call. */
  clusters?: Record<string, Endpoint>;
  failurePolicy?: FailurePolicy;
  reloadBackoff?: Backoff;
  env?: EnvEntry[];
  allowOnHeadersStopIteration?: boolean;
}

/** HOST:PORT, also [v6]:PORT. */
export function parseEndpoint(text: string, flag: string): Endpoint {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) throw new Error(`bad ${flag} "${text}": expected HOST:PORT`);
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

/** NAME=HOST:PORT, as given to --cluster. */
export function parseCluster(text: string): [string, Endpoint] {
  const eq = text.indexOf("=");
  const name = text.slice(0, eq);
  if (eq <= 0 || !/^[\w.|:-]+$/.test(name)) throw new Error(`bad --cluster "${text}": expected NAME=HOST:PORT`);
  return [name, parseEndpoint(text.slice(eq + 1), "--cluster")];
}

function socketAddress({ host, port }: Endpoint) {
  return { socket_address: { address: host, port_value: port } };
}

function cluster(name: string, endpoint: Endpoint) {
  const isIp = /^[\d.]+$/.test(endpoint.host) || endpoint.host.includes(":");
  return {
    name,
    type: isIp ? "STATIC" : "STRICT_DNS",
    connect_timeout: "5s",
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(endpoint) } }] }],
    },
  };
}

export function envoyBootstrap(o: BootstrapOptions): Record<string, unknown> {
  const extra = Object.entries(o.clusters ?? {});
  const names = new Set(extra.map(([name]) => name));
  if (o.upstream && names.has("upstream")) throw new Error('--cluster "upstream" clashes with the --upstream cluster');
  const route = o.upstream
    ? { match: { prefix: "/" }, route: { cluster: "upstream" } }
    : { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "no upstream configured\n" } } };
  const httpConnectionManager = {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: "ingress_http",
    route_config: { name: "local_route", virtual_hosts: [{ name: "all", domains: ["*"], routes: [route] }] },
    http_filters: [
      wasmHttpFilter({
        name: o.name ?? "plugin",
        rootId: o.rootId,
        configuration: o.configuration,
        code: { local: { filename: o.wasmPath } },
        failurePolicy: o.failurePolicy,
        reloadBackoff: o.reloadBackoff,
        env: o.env,
        allowOnHeadersStopIteration: o.allowOnHeadersStopIteration,
      }),
      {
        name: "envoy.filters.http.router",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
      },
    ],
  };
  const clusters = [
    ...(o.upstream ? [cluster("upstream", o.upstream)] : []),
    ...extra.map(([name, endpoint]) => cluster(name, endpoint)),
  ];
  return {
    admin: { address: socketAddress({ host: "0.0.0.0", port: ADMIN_PORT }) },
    static_resources: {
      listeners: [
        {
          name: "listener_0",
          address: socketAddress({ host: "0.0.0.0", port: LISTENER_PORT }),
          filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: httpConnectionManager }] }],
        },
      ],
      clusters,
    },
  };
}
