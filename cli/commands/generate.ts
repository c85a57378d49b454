// `proxy-wasm-as generate wasmplugin|envoyfilter|envoy`: the YAML that deploys a filter to Istio,
// to Istio without WasmPlugin, or to a bare Envoy (optionally run by docker compose).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { composeFile, CONTAINER_WASM_PATH } from "../../deploy/compose.js";
import { envoyBootstrap, parseCluster, parseEndpoint } from "../../deploy/envoy-bootstrap.js";
import { envoyFilter } from "../../deploy/envoyfilter.js";
import { readPluginConfig } from "../../deploy/plugin-config.js";
import { wasmPlugin } from "../../deploy/wasmplugin.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { reportErrors } from "../report-errors.js";

const collect = (value: string, previous: string[]) => [...previous, value];

function parsePriority(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new Error(`bad --priority "${value}": a whole number`);
  return Number(value);
}

async function emit(text: string, output: string | undefined): Promise<void> {
  if (!output) {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(resolve(output)), { recursive: true });
  await writeFile(output, text);
  process.stderr.write(`wrote ${output}\n`);
}

/** Config file to the JSON text the filter reads, exactly as a WasmPlugin's pluginConfig would arrive. */
async function configurationText(o: { config?: string; configFile?: string }): Promise<string | undefined> {
  if (o.config !== undefined && o.configFile !== undefined) throw new Error("use either --config or --config-file, not both");
  if (o.configFile !== undefined) return JSON.stringify(await readPluginConfig(o.configFile));
  return o.config;
}

interface WasmPluginFlags {
  url: string;
  sha256?: string;
  name: string;
  namespace?: string;
  rootId?: string;
  configFile?: string;
  phase?: string;
  priority?: string;
  failStrategy?: string;
  selector: string[];
  targetRef: string[];
  pullPolicy?: string;
  pullSecret?: string;
  type?: string;
  output?: string;
  json?: boolean;
}

function registerWasmPlugin(generate: Command): void {
  generate
    .command("wasmplugin")
    .description("an Istio WasmPlugin (extensions.istio.io/v1alpha1)")
    .requiredOption("--url <url>", "the module: oci://REGISTRY/REPO:TAG@sha256:..., https://.../plugin.wasm or file://...")
    .requiredOption("--name <name>", "the WasmPlugin's name")
    .option("--namespace <ns>", "its namespace (istio-system applies it mesh-wide)")
    .option("--sha256 <hex>", "checksum of the module, or of the OCI manifest for oci:// urls")
    .option("--root-id <id>", "the root id to run (pluginName)")
    .option("--config-file <file>", "pluginConfig, a JSON or YAML object; the filter reads it as JSON text")
    .option("--phase <phase>", "AUTHN, AUTHZ or STATS: which Istio filter the plugin goes before")
    .option("--priority <n>", "order within the phase, higher first")
    .option("--fail-strategy <strategy>", "FAIL_CLOSE or FAIL_OPEN when the plugin cannot load")
    .option("--selector <k=v>", "pod label to select (repeatable)", collect, [])
    .option("--target-ref <kind/name>", "Gateway/NAME, Service/NAME, ... to attach to (repeatable)", collect, [])
    .option("--pull-policy <policy>", "IfNotPresent or Always")
    .option("--pull-secret <secret>", "a kubernetes.io/dockerconfigjson secret for a private registry")
    .option("--type <type>", "HTTP or NETWORK")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("generate wasmplugin", async (o: WasmPluginFlags) => {
        const plugin = wasmPlugin({
          ...o,
          priority: parsePriority(o.priority),
          pluginConfig: o.configFile ? await readPluginConfig(o.configFile) : undefined,
          targetRefs: o.targetRef,
        });
        await emit(formatDocuments([plugin], o.json), o.output);
      }),
    );
}

interface EnvoyFilterFlags {
  url: string;
  sha256?: string;
  cluster?: string;
  name: string;
  namespace?: string;
  rootId?: string;
  config?: string;
  configFile?: string;
  context?: string;
  selector: string[];
  priority?: string;
  failStrategy?: string;
  output?: string;
  json?: boolean;
}

function registerEnvoyFilter(generate: Command): void {
  generate
    .command("envoyfilter")
    .description("the filter as an Istio EnvoyFilter (networking.istio.io/v1alpha3), for meshes without WasmPlugin")
    .requiredOption("--url <url>", "https://.../plugin.wasm (Envoy fetches it) or file:///path/in/the/proxy.wasm")
    .requiredOption("--name <name>", "the EnvoyFilter's name")
    .option("--namespace <ns>", "its namespace")
    .option("--sha256 <hex>", "checksum of the module (required for https)")
    .option("--cluster <name>", "the Envoy cluster that reaches the url's host (default: Istio's outbound|PORT||HOST)")
    .option("--root-id <id>", "the root id to run")
    .option("--config <text>", "configuration passed to the filter as is")
    .option("--config-file <file>", "configuration, a JSON or YAML object passed as JSON text (as WasmPlugin does)")
    .option("--context <context>", "SIDECAR_INBOUND (default), SIDECAR_OUTBOUND, GATEWAY or ANY")
    .option("--selector <k=v>", "pod label to select (repeatable)", collect, [])
    .option("--priority <n>", "EnvoyFilter priority")
    .option("--fail-strategy <strategy>", "FAIL_CLOSE or FAIL_OPEN")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("generate envoyfilter", async (o: EnvoyFilterFlags) => {
        const filter = envoyFilter({ ...o, priority: parsePriority(o.priority), configuration: await configurationText(o) });
        await emit(formatDocuments([filter], o.json), o.output);
      }),
    );
}

interface EnvoyFlags {
  config?: string;
  configFile?: string;
  rootId?: string;
  upstream?: string;
  cluster: string[];
  compose?: boolean;
  envoyImage?: string;
  output?: string;
  json?: boolean;
}

function registerEnvoy(generate: Command): void {
  generate
    .command("envoy")
    .description("a static Envoy bootstrap running PLUGIN.wasm (listener :10000, admin :9901); --compose adds docker-compose.yaml")
    .argument("<plugin>", "the compiled filter")
    .option("--config <text>", "configuration passed to the filter as is")
    .option("--config-file <file>", "configuration, a JSON or YAML object passed as JSON text (as WasmPlugin does)")
    .option("--root-id <id>", "the root id to run")
    .option("--upstream <host:port>", "where requests go after the filter (default: Envoy answers 200 itself)")
    .option("--cluster <name=host:port>", "a cluster the filter calls out to (repeatable)", collect, [])
    .option("--compose", "write envoy.yaml and docker-compose.yaml into --output DIR")
    .option("--envoy-image <image>", "the Envoy image for --compose")
    .option("-o, --output <path>", "bootstrap file (default stdout); with --compose, the directory (default envoy-local)")
    .option("--json", "print the bootstrap as JSON instead of YAML")
    .action(
      reportErrors("generate envoy", async (plugin: string, o: EnvoyFlags) => {
        const common = {
          rootId: o.rootId,
          configuration: await configurationText(o),
          upstream: o.upstream ? parseEndpoint(o.upstream, "--upstream") : undefined,
          clusters: Object.fromEntries(o.cluster.map(parseCluster)),
        };
        if (!o.compose) {
          await emit(formatDocuments([envoyBootstrap({ ...common, wasmPath: resolve(plugin) })], o.json), o.output);
          return;
        }
        const dir = o.output ?? "envoy-local";
        await mkdir(dir, { recursive: true });
        const bootstrap = envoyBootstrap({ ...common, wasmPath: CONTAINER_WASM_PATH });
        // Paths in docker-compose.yaml are relative to its own folder.
        const pluginPath = relative(resolve(dir), resolve(plugin));
        const compose = composeFile({
          pluginPath: pluginPath.startsWith(".") ? pluginPath : `./${pluginPath}`,
          bootstrapPath: "./envoy.yaml",
          image: o.envoyImage,
        });
        await writeFile(join(dir, "envoy.yaml"), formatDocuments([bootstrap]));
        await writeFile(join(dir, "docker-compose.yaml"), formatDocuments([compose]));
        console.log(`wrote ${join(dir, "envoy.yaml")} and ${join(dir, "docker-compose.yaml")}`);
        console.log(`run: docker compose -f ${join(dir, "docker-compose.yaml")} up, then curl localhost:10000`);
      }),
    );
}

export function register(program: Command): void {
  const generate = program.command("generate").description("write deployment YAML for Istio or Envoy");
  registerWasmPlugin(generate);
  registerEnvoyFilter(generate);
  registerEnvoy(generate);
}
