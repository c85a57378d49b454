// `proxy-wasm-as package PLUGIN.wasm`: writes plugin.wasm as an OCI image layout that
// Istio's image fetcher reads, without Docker.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { IMAGE_FORMATS, buildImage, type ImageFormat } from "../../oci/image.js";
import { writeLayout } from "../../oci/layout.js";
import { reportErrors } from "../report-errors.js";

const collect = (value: string, previous: string[]) => [...previous, value];

export const FORMAT_HELP =
  "docker (Docker schema 2, plugin.wasm in a tar+gzip layer), compat (the same as an OCI image) " +
  "or oci (the Wasm artifact: the raw module as application/vnd.module.wasm.content.layer.v1+wasm; wasme is its old name)";

export function parseFormat(value: string): ImageFormat {
  if (value === "wasme") return "oci";
  if (!(IMAGE_FORMATS as readonly string[]).includes(value)) {
    throw new Error(`bad --format "${value}": ${IMAGE_FORMATS.join(", ")} (or wasme, the old name of oci)`);
  }
  return value as ImageFormat;
}

export async function readPlugin(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

interface PackageOptions {
  output: string;
  format: string;
  rootId: string[];
  tag: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("package")
    .description("write PLUGIN.wasm as an OCI image layout Istio fetches (compat format by default); refuses a module Envoy would not load")
    .argument("<plugin>", "the compiled filter, e.g. build/plugin.wasm")
    .option("-o, --output <dir>", "where to write the image layout", "oci-image")
    .option("--format <format>", FORMAT_HELP, "compat")
    .option("--root-id <id>", "a root id the module registers, recorded in runtime-config.json (repeatable)", collect, [])
    .option("--tag <tag>", "the tag recorded in the layout's index.json", "latest")
    .option("--json", "print the result as JSON")
    .action(
      reportErrors("package", async (plugin: string, o: PackageOptions) => {
        const format = parseFormat(o.format);
        const image = buildImage(await readPlugin(plugin), { format, rootIds: o.rootId });
        await writeLayout(o.output, image, o.tag);
        const result = { layout: o.output, format, digest: image.manifestDigest, size: image.manifest.length };
        if (o.json) console.log(JSON.stringify(result, null, 2));
        else console.log(`${image.manifestDigest}\twrote ${format} image layout to ${o.output}`);
      }),
    );
}
