// `proxy-wasm-as migrate FILE.yaml`: wasme FilterDeployments and Maistra ServiceMeshExtensions
// to Istio WasmPlugins on stdout; what has no equivalent is said on stderr.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { migrate } from "../../deploy/migrate.js";
import { formatDocuments } from "../../deploy/yaml-output.js";
import { reportErrors } from "../report-errors.js";

export function register(program: Command): void {
  program
    .command("migrate")
    .description("turn wasme FilterDeployments and Maistra ServiceMeshExtensions into Istio WasmPlugins")
    .argument("<file>", "a YAML file, one or several documents")
    .option("--json", "print JSON instead of YAML")
    .action(
      reportErrors("migrate", async (file: string, o: { json?: boolean }) => {
        let text: string;
        try {
          text = await readFile(file, "utf8");
        } catch (error) {
          throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
        const { plugins, notes } = migrate(text, file);
        for (const note of notes) process.stderr.write(`note: ${note}\n`);
        process.stdout.write(formatDocuments(plugins, o.json));
      }),
    );
}
