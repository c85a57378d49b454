// `generate envoyfilter|envoy`: Envoy's own wasm filter config, as an Istio EnvoyFilter patch or in a
// static bootstrap for a bare Envoy (optionally run by docker compose).
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { composeFile, CONTAINER_WASM_PATH } from "../../deploy/compose.js";
import { envoyBootstrap, parseCluster, parseEndpoint } from "../../deploy/envoy-bootstrap.js";
import { envoyFilter } from "../../deploy/envoyfilter.js";
import { oneOf, parseEnv } from "../../deploy/istio-wasm.js";
import { checkModuleFile } from "../../deploy/module-file.js";
import { FAILURE_POLICIES, parseBackoff } from "../../deploy/wasm-filter.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { reportErrors } from "../report-errors.js";
import { collect, configurationText, emit, parsePriority } from "./generate-common.js";

// The Node host runs Envoy's default; a config that changes it is not what the tests exercised.
const STOP_ITERATION_WARNING =
  "warning: allow_on_headers_stop_iteration needs Envoy 1.35 or later, and the Node host (simulate, run, tests) " +
  "runs Envoy's default, which turns StopIteration from headers into StopAllIterationAndWatermark\n";

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
  allowOnHeadersStopIteration?: boolean;
  output?: string;
  json?: boolean;
}

export function registerEnvoyFilter(generate: Command): void {
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
    .option("--allow-on-headers-stop-iteration", "let StopIteration from the header callbacks hold headers while body callbacks run (Envoy 1.35+)")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("generate envoyfilter", async (o: EnvoyFilterFlags) => {
        const filter = envoyFilter({ ...o, priority: parsePriority(o.priority), configuration: await configurationText(o) });
        await emit(formatDocuments([filter], o.json), o.output);
        if (o.allowOnHeadersStopIteration) process.stderr.write(STOP_ITERATION_WARNING);
      }),
    );
}

interface EnvoyFlags {
  config?: string;
  configFile?: string;
  rootId?: string;
  upstream?: string;
  cluster: string[];
  failurePolicy?: string;
  reloadBackoff?: string;
  env: string[];
  hostEnv: string[];
  allowOnHeadersStopIteration?: boolean;
  compose?: boolean;
  envoyImage?: string;
  output?: string;
  json?: boolean;
}

export function registerEnvoy(generate: Command): void {
  generate
    .command("envoy")
    .description("a static Envoy bootstrap running PLUGIN.wasm (listener :10000, admin :9901); --compose adds docker-compose.yaml")
    .argument("<plugin>", "the compiled filter")
    .option("--config <text>", "configuration passed to the filter as is")
    .option("--config-file <file>", "configuration, a JSON or YAML object passed as JSON text (as WasmPlugin does)")
    .option("--root-id <id>", "the root id to run")
    .option("--upstream <host:port>", "where requests go after the filter (default: Envoy answers 200 itself)")
    .option("--cluster <name=host:port>", "a cluster the filter calls out to (repeatable)", collect, [])
    .option("--failure-policy <policy>", "FAIL_CLOSED (Envoy's default, 503), FAIL_OPEN or FAIL_RELOAD (a new VM after a crash)")
    .option("--reload-backoff <base[,max]>", "with FAIL_RELOAD: the backoff between reloads, e.g. 1s,30s")
    .option("--env <NAME=VALUE>", "an environment variable for the VM (repeatable)", collect, [])
    .option("--host-env <NAME>", "pass Envoy's own environment variable NAME to the VM (repeatable)", collect, [])
    .option("--allow-on-headers-stop-iteration", "let StopIteration from the header callbacks hold headers while body callbacks run (Envoy 1.35+)")
    .option("--compose", "write envoy.yaml and docker-compose.yaml into --output DIR")
    .option("--envoy-image <image>", "the Envoy image for --compose")
    .option("-o, --output <path>", "bootstrap file (default stdout); with --compose, the directory (default envoy-local)")
    .option("--json", "print the bootstrap as JSON instead of YAML")
    .action(
      reportErrors("generate envoy", async (plugin: string, o: EnvoyFlags) => {
        await checkModuleFile(plugin);
        const common = {
          rootId: o.rootId,
          configuration: await configurationText(o),
          upstream: o.upstream ? parseEndpoint(o.upstream, "--upstream") : undefined,
          clusters: Object.fromEntries(o.cluster.map(parseCluster)),
          failurePolicy: oneOf("--failure-policy", o.failurePolicy, FAILURE_POLICIES),
          reloadBackoff: o.reloadBackoff === undefined ? undefined : parseBackoff(o.reloadBackoff),
          env: parseEnv(o.env, o.hostEnv),
          allowOnHeadersStopIteration: o.allowOnHeadersStopIteration,
        };
        if (!o.compose) {
          await emit(formatDocuments([envoyBootstrap({ ...common, wasmPath: resolve(plugin) })], o.json), o.output);
        } else {
          const dir = o.output ?? "envoy-local";
          const bootstrap = envoyBootstrap({ ...common, wasmPath: CONTAINER_WASM_PATH });
          await mkdir(dir, { recursive: true });
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
        }
        if (o.allowOnHeadersStopIteration) process.stderr.write(STOP_ITERATION_WARNING);
      }),
    );
}
