// A docker-compose.yaml that runs the generated bootstrap with the official Envoy image.

const DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.33-latest";
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
