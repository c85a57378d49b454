// The plugin's configuration, as Istio hands it over: WasmPlugin.pluginConfig is a Struct that
// reaches the filter as JSON text (pilot/pkg/model/extensions.go), so a config file, JSON or YAML,
// must hold an object.
import { readConfigFile } from "../cli/config-file.js";
import { parse } from "yaml";

export type PluginConfig = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PluginConfig {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses JSON or YAML text (JSON is YAML) into the pluginConfig object. */
export function parsePluginConfig(text: string, source: string): PluginConfig {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new Error(`${source} is neither JSON nor YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!isPlainObject(value)) throw new Error(`${source} must hold an object (pluginConfig is a map), not ${JSON.stringify(value)}`);
  return value;
}

export async function readPluginConfig(path: string): Promise<PluginConfig> {
  return parsePluginConfig(readConfigFile(path).toString("utf8"), path);
}
