// `proxy-wasm-as push PLUGIN.wasm|LAYOUT REF`: uploads the image to an OCI registry and prints the
// digest and the pinned oci:// url to put in a WasmPlugin.
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { buildImage, type Image } from "../../oci/image.js";
import { readLayout } from "../../oci/layout.js";
import { parseReference } from "../../oci/reference.js";
import { pushImage } from "../../oci/transfer.js";
import { reportErrors } from "../report-errors.js";
import { parseFormat, readPlugin } from "./package.js";
import { addRegistryOptions, clientOptions, type RegistryFlags } from "../registry-options.js";

const collect = (value: string, previous: string[]) => [...previous, value];

interface PushOptions extends RegistryFlags {
  format: string;
  rootId: string[];
  json?: boolean;
}

async function loadImage(source: string, o: PushOptions): Promise<Image> {
  const isLayout = await stat(source).then((s) => s.isDirectory(), () => false);
  if (isLayout) return readLayout(source);
  return buildImage(await readPlugin(source), { format: parseFormat(o.format), rootIds: o.rootId });
}

export function register(program: Command): void {
  addRegistryOptions(
    program
      .command("push")
      .description("push PLUGIN.wasm (packaged on the fly) or an image layout from `package` to a registry")
      .argument("<source>", "a .wasm file or an OCI image layout directory")
      .argument("<ref>", "where to push, e.g. ghcr.io/me/my-filter:v1 or 127.0.0.1:5000/my-filter:dev")
      .option("--format <format>", "when SOURCE is a .wasm file: compat or wasme", "compat")
      .option("--root-id <id>", "when SOURCE is a .wasm file: a root id for runtime-config.json (repeatable)", collect, [])
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("push", async (source: string, refText: string, o: PushOptions) => {
      const ref = parseReference(refText);
      const image = await loadImage(source, o);
      const result = await pushImage(image, ref, await clientOptions(ref, o));
      const url = `oci://${result.reference}`;
      if (o.json) console.log(JSON.stringify({ digest: result.digest, reference: result.reference, url }, null, 2));
      else console.log(`${result.digest}\n${url}`);
    }),
  );
}
