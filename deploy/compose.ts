// A docker-compose.yaml that runs the generated bootstrap with the official Envoy image.

// A release that reads every field `generate envoy` writes (failure_policy arrived in 1.33,
// allow_on_headers_stop_iteration in 1.35), still supported.
const DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.37-latest";
export const CONTAINER_WASM_PATH = "/etc/envoy/plugin.wasm";

export function composeFile(o: { pluginPath: string; bootstrapPath: string; image?: string }): Record<string, unknown> {
  return {
    services: {
      envoy: {
        image: o.image ?? DEFAULT_ENVOY_IMAGE,
        command: ["envoy", "-c", "/etc/envoy/envoy.yaml", "--log-level", "info"],
        volumes: [`${o.bootstrapPath}:/etc/envoy/envoy.yaml:ro`, `${o.pluginPath}:${CONTAINER_WASM_PATH}:ro`],
        ports: ["10000:10000", "9901:9901"],
        // Lets --upstream/--cluster name services on the host as host.docker.internal.
        extra_hosts: ["host.docker.internal:host-gateway"],
      },
    },
  };
}
