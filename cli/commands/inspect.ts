// `proxy-wasm-as inspect REF`: what a registry holds under REF, and whether Istio can load it.
import type { Command } from "commander";
import { parseReference } from "../../oci/reference.js";
import { inspectImage, type Inspection } from "../../oci/transfer.js";
import { reportErrors } from "../report-errors.js";
import { addRegistryOptions, clientOptions, type RegistryFlags } from "../registry-options.js";

function describe(i: Inspection): string {
  const lines = [
    `reference: ${i.reference}`,
    `digest:    ${i.digest}`,
    `manifest:  ${i.mediaType} (${i.manifestSize} bytes)`,
    `variant:   ${i.variant ?? `none - ${i.problem}`}`,
    `config:    ${i.config.mediaType} ${i.config.digest} (${i.config.size} bytes)`,
    ...i.layers.map((layer, n) => `layer ${n}:   ${layer.mediaType} ${layer.digest} (${layer.size} bytes)`),
    ...Object.entries(i.annotations).map(([key, value]) => `annotation: ${key}=${value}`),
  ];
  return lines.join("\n");
}

interface InspectOptions extends RegistryFlags {
  json?: boolean;
}

export function register(program: Command): void {
  addRegistryOptions(
    program
      .command("inspect")
      .description("show an image's manifest, layers and Wasm variant; exits 1 when Istio could not load it")
      .argument("<ref>", "the image, e.g. ghcr.io/me/my-filter:v1")
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("inspect", async (refText: string, o: InspectOptions) => {
      const ref = parseReference(refText);
      const inspection = await inspectImage(ref, await clientOptions(ref, o));
      console.log(o.json ? JSON.stringify(inspection, null, 2) : describe(inspection));
      if (inspection.problem) {
        process.stderr.write(`proxy-wasm-as inspect: Istio could not load this image: ${inspection.problem}\n`);
        process.exitCode = 1;
      }
    }),
  );
}
