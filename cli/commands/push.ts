// `proxy-wasm-as push PLUGIN.wasm|LAYOUT REF`: uploads the image to an OCI registry and prints the
// digest and the pinned oci:// url to put in a WasmPlugin. An image Istio would not fetch, or whose
// module Envoy would not load, is refused before anything is uploaded.
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { buildImage, checkLoadable, type Image } from "../../oci/image.js";
import { fetchAsIstio } from "../../oci/istio-fetch.js";
import { readLayout } from "../../oci/layout.js";
import { istioMaxWasmBytes } from "../../oci/limits.js";
import { parseManifest } from "../../oci/manifest.js";
import { parseReference } from "../../oci/reference.js";
import { pushImage } from "../../oci/transfer.js";
import { reportErrors } from "../report-errors.js";
import { FORMAT_HELP, parseFormat, readPlugin } from "./package.js";
import { addRegistryOptions, clientOptions, type RegistryFlags } from "../registry-options.js";

const collect = (value: string, previous: string[]) => [...previous, value];

interface PushOptions extends RegistryFlags {
  format: string;
  rootId: string[];
  json?: boolean;
}

async function checkedLayout(dir: string): Promise<Image> {
  const image = await readLayout(dir);
  const manifest = parseManifest(image.manifest, `the manifest in ${dir}`);
  const { wasm } = await fetchAsIstio(manifest, async (layer) => image.blobs.get(layer.digest)!, istioMaxWasmBytes());
  checkLoadable(wasm);
  return image;
}

async function loadImage(source: string, o: PushOptions): Promise<Image> {
  const isLayout = await stat(source).then((s) => s.isDirectory(), () => false);
  if (isLayout) return checkedLayout(source);
  return buildImage(await readPlugin(source), { format: parseFormat(o.format), rootIds: o.rootId });
}

export function register(program: Command): void {
  addRegistryOptions(
    program
      .command("push")
      .description("push PLUGIN.wasm (packaged on the fly) or an image layout from `package` to a registry; refuses an image Istio or Envoy would not load")
      .argument("<source>", "a .wasm file or an OCI image layout directory")
      .argument("<ref>", "where to push, e.g. ghcr.io/me/my-filter:v1 or 127.0.0.1:5000/my-filter:dev")
      .option("--format <format>", `when SOURCE is a .wasm file: ${FORMAT_HELP}`, "compat")
      .option("--root-id <id>", "when SOURCE is a .wasm file: a root id for runtime-config.json (repeatable)", collect, [])
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("push", async (source: string, refText: string, o: PushOptions) => {
      const ref = parseReference(refText);
      const image = await loadImage(source, o);
      const result = await pushImage(image, ref, await clientOptions("push", ref, o));
      const url = `oci://${result.reference}`;
      if (o.json) console.log(JSON.stringify({ digest: result.digest, reference: result.reference, url }, null, 2));
      else console.log(`${result.digest}\n${url}`);
    }),
  );
}
