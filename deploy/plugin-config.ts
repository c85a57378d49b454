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

/**
 * What every resource that has the mesh pull the plugin from a registry or URL takes (Istio's WasmPlugin and
 * TrafficExtension, Envoy Gateway's EnvoyExtensionPolicy): its name, the module and how to pull it, the
 * plugin's root id and configuration.
 */
export interface PulledPluginOptions {
  name: string;
  namespace?: string;
  url: string;
  sha256?: string;
  rootId?: string;
  pluginConfig?: PluginConfig;
  pullPolicy?: string;
  pullSecret?: string;
}
