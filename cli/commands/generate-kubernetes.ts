// `generate wasmplugin|trafficextension|envoyextensionpolicy`: the Kubernetes resources that deploy a filter
// by url to Istio (WasmPlugin, or TrafficExtension from Istio 1.30) and to Envoy Gateway.
import type { Command } from "commander";
import { envoyExtensionPolicy } from "../../deploy/envoyextensionpolicy.js";
import type { IstioWasmOptions } from "../../deploy/istio-wasm.js";
import { readPluginConfig } from "../../deploy/plugin-config.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { reportErrors } from "../report-errors.js";
import { collect, emit, parsePriority } from "./generate-common.js";

/** The flags of every resource that has the mesh pull the plugin (PulledPluginOptions, plus where the output goes). */
interface PulledPluginFlags {
  url: string;
  sha256?: string;
  name: string;
  namespace?: string;
  rootId?: string;
  configFile?: string;
  targetRef: string[];
  hostEnv: string[];
  pullPolicy?: string;
  pullSecret?: string;
  output?: string;
  json?: boolean;
}

interface IstioFlags extends PulledPluginFlags {
  phase?: string;
  priority?: string;
  failStrategy?: string;
  selector: string[];
  match: string[];
  env: string[];
  type?: string;
}

/** WasmPlugin and TrafficExtension take the same flags: they carry the same fields. */
export function registerIstio(generate: Command, kind: string, build: (o: IstioWasmOptions) => Record<string, unknown>): void {
  generate
    .command(kind.toLowerCase())
    .description(`an Istio ${kind} (extensions.istio.io/v1alpha1${kind === "TrafficExtension" ? ", Istio 1.30+" : ""})`)
    .requiredOption("--url <url>", "the module: oci://REGISTRY/REPO:TAG@sha256:..., https://.../plugin.wasm or file:///path")
    .requiredOption("--name <name>", `the ${kind}'s name`)
    .option("--namespace <ns>", "its namespace (istio-system applies it mesh-wide)")
    .option("--sha256 <hex>", "checksum of the module, or of the OCI manifest for oci:// urls")
    .option("--root-id <id>", "the root id to run (pluginName)")
    .option("--config-file <file>", "pluginConfig, a JSON or YAML object; the filter reads it as JSON text")
    .option("--phase <phase>", "AUTHN, AUTHZ or STATS: which Istio filter the plugin goes before")
    .option("--priority <n>", "order within the phase, higher first")
    .option("--fail-strategy <strategy>", "FAIL_CLOSE, FAIL_OPEN or FAIL_RELOAD (a new VM after a crash)")
    .option("--selector <k=v>", "pod label to select (repeatable)", collect, [])
    .option("--target-ref <kind/name>", "Gateway/NAME, Service/NAME, ... to attach to (repeatable)", collect, [])
    .option("--match <selector>", "traffic to run on: CLIENT, SERVER or CLIENT_AND_SERVER, with :PORT,PORT (repeatable)", collect, [])
    .option("--env <NAME=VALUE>", "an environment variable for the VM (repeatable)", collect, [])
    .option("--host-env <NAME>", "pass the proxy's own environment variable NAME to the VM (repeatable)", collect, [])
    .option("--pull-policy <policy>", "IfNotPresent or Always")
    .option("--pull-secret <secret>", "a kubernetes.io/dockerconfigjson secret for a private registry")
    .option("--type <type>", "HTTP or NETWORK")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors(`generate ${kind.toLowerCase()}`, async (o: IstioFlags) => {
        const resource = build({
          ...o,
          priority: parsePriority(o.priority),
          pluginConfig: o.configFile ? await readPluginConfig(o.configFile) : undefined,
          targetRefs: o.targetRef,
        });
        await emit(formatDocuments([resource], o.json), o.output);
      }),
    );
}

interface PolicyFlags extends PulledPluginFlags {
  failOpen?: boolean;
}

export function registerEnvoyExtensionPolicy(generate: Command): void {
  generate
    .command("envoyextensionpolicy")
    .description("an Envoy Gateway EnvoyExtensionPolicy (gateway.envoyproxy.io/v1alpha1) running the filter")
    .requiredOption("--url <url>", "the module: oci://REGISTRY/REPO:TAG[@sha256:...] (type Image) or https://.../plugin.wasm (type HTTP)")
    .requiredOption("--name <name>", "the policy's name, also the extension's")
    .option("--target-ref <kind/name>", "Gateway/NAME, Gateway/NAME:LISTENER, HTTPRoute/NAME, ... (at least one, repeatable)", collect, [])
    .option("--namespace <ns>", "its namespace, the targets' namespace")
    .option("--sha256 <hex>", "checksum of the module, or of the OCI manifest for oci:// urls")
    .option("--root-id <id>", "the root id to run")
    .option("--config-file <file>", "config, a JSON or YAML object; the filter reads it as JSON text")
    .option("--fail-open", "let traffic through when the extension fails (default: 5xx)")
    .option("--host-env <NAME>", "pass the proxy's own environment variable NAME to the VM (repeatable)", collect, [])
    .option("--pull-policy <policy>", "IfNotPresent or Always")
    .option("--pull-secret <secret>", "a kubernetes.io/dockerconfigjson secret for a private registry (images only)")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("generate envoyextensionpolicy", async (o: PolicyFlags) => {
        const policy = envoyExtensionPolicy({
          ...o,
          pluginConfig: o.configFile ? await readPluginConfig(o.configFile) : undefined,
          targetRefs: o.targetRef,
        });
        await emit(formatDocuments([policy], o.json), o.output);
      }),
    );
}
