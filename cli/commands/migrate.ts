// `proxy-wasm-as migrate FILE.yaml`: wasme FilterDeployments and Maistra ServiceMeshExtensions to Istio
// WasmPlugins or TrafficExtensions, WasmPlugins to TrafficExtensions, on stdout; what has no
// equivalent is said on stderr.
import type { Command } from "commander";
import { migrate, MIGRATION_TARGETS } from "../../deploy/migrate.js";
import { oneOf } from "../../deploy/istio-wasm.js";
import { readTextFile } from "../../deploy/read-text.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { reportErrors } from "../report-errors.js";

// Far above any set of resources a user would migrate (the API server stores at most ~1.5 MiB per object).
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export function register(program: Command): void {
  program
    .command("migrate")
    .description("turn wasme FilterDeployments, Maistra ServiceMeshExtensions and WasmPlugins into Istio WasmPlugins or TrafficExtensions")
    .argument("<file>", "a YAML file, one or several documents")
    .option("--to <kind>", "WasmPlugin (default) or TrafficExtension (Istio 1.30+; also converts WasmPlugins)")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("migrate", async (file: string, o: { to?: string; json?: boolean }) => {
        const target = oneOf("--to", o.to, MIGRATION_TARGETS) ?? "WasmPlugin";
        const text = await readTextFile(file, MAX_INPUT_BYTES);
        const { resources, notes } = migrate(text, file, target);
        for (const note of notes) process.stderr.write(`note: ${note}\n`);
        process.stdout.write(formatDocuments(resources, o.json));
      }),
    );
}
