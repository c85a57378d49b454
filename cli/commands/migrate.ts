// `proxy-wasm-as migrate FILE.yaml`: wasme FilterDeployments and Maistra ServiceMeshExtensions
// to Istio WasmPlugins on stdout; what has no equivalent is said on stderr.
import type { Command } from "commander";
import { migrate } from "../../deploy/migrate.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { readConfigFile } from "../config-file.js";
import { reportErrors } from "../report-errors.js";

export function register(program: Command): void {
  program
    .command("migrate")
    .description("turn wasme FilterDeployments and Maistra ServiceMeshExtensions into Istio WasmPlugins")
    .argument("<file>", "a YAML file, one or several documents")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("migrate", async (file: string, o: { json?: boolean }) => {
        const text = readConfigFile(file).toString("utf8");
        const { plugins, notes } = migrate(text, file);
        for (const note of notes) process.stderr.write(`note: ${note}\n`);
        process.stdout.write(formatDocuments(plugins, o.json));
      }),
    );
}
