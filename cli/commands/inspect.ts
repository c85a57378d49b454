// `proxy-wasm-as inspect REF`: what a registry holds under REF, and whether Istio would load it:
// its fetcher's format rules and size limit, then Envoy's checks on the module.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { printable } from "../../oci/printable.js";
import { parseReference } from "../../oci/reference.js";
import { inspectImage, type Inspection } from "../../oci/transfer.js";
import { reportErrors } from "../report-errors.js";
import { addRegistryOptions, clientOptions, type RegistryFlags } from "../registry-options.js";

/** Registry-controlled text (media types, annotations) is escaped: it must not drive the terminal. */
function describe(i: Inspection): string {
  const p = printable;
  const lines = [
    `reference: ${i.reference}`,
    `digest:    ${i.digest}`,
    ...(i.index ? [`index:     ${i.index} (resolved to its linux/amd64 image, as Istio does)`] : []),
    `manifest:  ${p(i.mediaType)} (${i.manifestSize} bytes)`,
    `format:    ${i.format ?? "none Istio reads"}`,
    `config:    ${i.config ? `${p(i.config.mediaType)} ${i.config.digest} (${i.config.size} bytes)` : "none"}`,
    ...i.layers.map((layer, n) => `layer ${n}:   ${p(layer.mediaType)} ${layer.digest} (${layer.size} bytes)`),
    ...Object.entries(i.annotations).map(([key, value]) => `annotation: ${p(key)}=${p(value)}`),
    ...(i.module
      ? [
          `module:    ${i.module.size} bytes, ${i.module.sha256}, Proxy-Wasm ABI ${i.module.abiVersion ?? "none"}`,
          ...i.module.notes.map((note) => `note:      ${note}`),
        ]
      : []),
    `istio:     ${i.loadable ? "would load this image" : `would NOT load this image: ${p(i.problem ?? "")}`}`,
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
      .description("show an image's manifest, layers and format, and whether Istio would load it (its fetcher's rules and size limit, then Envoy's checks on the module); exits 1 when not")
      .argument("<ref>", "the image, e.g. ghcr.io/me/my-filter:v1")
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("inspect", async (refText: string, o: InspectOptions) => {
      // A first try is often the module just built: a file name would otherwise read as an image on Docker Hub.
      if (existsSync(refText) || refText.endsWith(".wasm")) {
        throw new Error(
          `${refText} names a file, not an image: inspect reads an image from a registry (e.g. ghcr.io/me/my-filter:v1). ` +
            `To load a .wasm as Envoy would: npx proxy-wasm-as simulate ${refText}`,
        );
      }
      const ref = parseReference(refText);
      const inspection = await inspectImage(ref, await clientOptions("inspect", ref, o));
      console.log(o.json ? JSON.stringify(inspection, null, 2) : describe(inspection));
      if (!inspection.loadable) {
        process.stderr.write(`proxy-wasm-as inspect: Istio would not load this image: ${printable(inspection.problem ?? "")}\n`);
        process.exitCode = 1;
      }
    }),
  );
}
