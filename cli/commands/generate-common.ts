// What every `generate` subcommand shares: repeatable flags, --priority, --config/--config-file, and
// writing the result to stdout or a file.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { readPluginConfig } from "../../deploy/plugin-config.js";

export const collect = (value: string, previous: string[]) => [...previous, value];

export function parsePriority(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new Error(`bad --priority "${value}": a whole number`);
  return Number(value);
}

export async function emit(text: string, output: string | undefined): Promise<void> {
  if (!output) {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(resolve(output)), { recursive: true });
  await writeFile(output, text);
  process.stderr.write(`wrote ${output}\n`);
}

/** Config file to the JSON text the filter reads, exactly as a WasmPlugin's pluginConfig would arrive. */
export async function configurationText(o: { config?: string; configFile?: string }): Promise<string | undefined> {
  if (o.config !== undefined && o.configFile !== undefined) throw new Error("use either --config or --config-file, not both");
  if (o.configFile !== undefined) return JSON.stringify(await readPluginConfig(o.configFile));
  return o.config;
}
