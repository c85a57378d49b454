// The same filter as an Istio EnvoyFilter (networking.istio.io/v1alpha3), for meshes that predate
// WasmPlugin: an HTTP_FILTER inserted before the router, with the module fetched by Envoy itself
// (remote, pinned by sha256, through a cluster that must exist) or read from the proxy's disk.
import { metadata, parseLabels } from "./kubernetes.js";
import { oneOf } from "./istio-wasm.js";
import { checkModuleUrl, checkSha256 } from "./urls.js";
import { wasmHttpFilter, type WasmCode } from "./wasm-filter.js";

export const CONTEXTS = ["SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY", "ANY"] as const;

export interface EnvoyFilterOptions {
  name: string;
  namespace?: string;
  url: string;
  sha256?: string;
  /** For an http(s) url: the Envoy cluster that reaches its host. */
  cluster?: string;
  rootId?: string;
  configuration?: string;
  context?: string;
  selector?: string[];
  priority?: number;
  failStrategy?: string;
  /** WasmPlugin cannot set it; an EnvoyFilter is how a mesh gets it (Envoy 1.35+). */
  allowOnHeadersStopIteration?: boolean;
}

/** Istio's name for the outbound cluster of a ServiceEntry host, which Envoy uses to fetch the module. */
export function outboundCluster(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `outbound|${port}||${url.hostname}`;
}

function codeFor(o: EnvoyFilterOptions): WasmCode {
  if (o.url.startsWith("oci://")) {
    throw new Error("Envoy cannot fetch oci:// images itself; use `generate wasmplugin`, or an https:// url to the .wasm");
  }
  checkModuleUrl(o.url, ["https", "http", "file"]);
  const url = new URL(o.url);
  if (url.protocol === "file:") return { local: { filename: decodeURIComponent(url.pathname) } };
  const sha256 = checkSha256(o.sha256);
  if (!sha256) throw new Error("a remote module needs --sha256 (Envoy refuses remote code without it)");
  return { remote: { http_uri: { uri: o.url, cluster: o.cluster ?? outboundCluster(url), timeout: "10s" }, sha256 } };
}

export function envoyFilter(o: EnvoyFilterOptions): Record<string, unknown> {
  const context = oneOf("--context", o.context, CONTEXTS) ?? "SIDECAR_INBOUND";
  const failStrategy = oneOf("--fail-strategy", o.failStrategy, ["FAIL_CLOSE", "FAIL_OPEN"] as const);
  const labels = parseLabels(o.selector ?? []);
  const filter = wasmHttpFilter({
    name: `${o.namespace ?? "default"}.${o.name}`,
    rootId: o.rootId,
    vmId: o.name,
    configuration: o.configuration,
    code: codeFor(o),
    failOpen: failStrategy === "FAIL_OPEN",
    allowOnHeadersStopIteration: o.allowOnHeadersStopIteration,
  });
  const spec: Record<string, unknown> = {};
  if (Object.keys(labels).length > 0) spec.workloadSelector = { labels };
  if (o.priority !== undefined) spec.priority = o.priority;
  spec.configPatches = [
    {
      applyTo: "HTTP_FILTER",
      match: {
        context,
        listener: {
          filterChain: {
            filter: {
              name: "envoy.filters.network.http_connection_manager",
              subFilter: { name: "envoy.filters.http.router" },
            },
          },
        },
      },
      patch: { operation: "INSERT_BEFORE", value: filter },
    },
  ];
  return { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: metadata(o.name, o.namespace), spec };
}
