// `proxy-wasm-as pull REF`: fetches an image the way Istio does and writes its plugin.wasm.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseReference } from "../../oci/reference.js";
import { pullImage } from "../../oci/transfer.js";
import { reportErrors } from "../report-errors.js";
import { addRegistryOptions, clientOptions, type RegistryFlags } from "../registry-options.js";

interface PullOptions extends RegistryFlags {
  output: string;
  json?: boolean;
}

export function register(program: Command): void {
  addRegistryOptions(
    program
      .command("pull")
      .description("pull a Wasm image (compat or wasme variant) and write its plugin.wasm")
      .argument("<ref>", "the image, e.g. ghcr.io/me/my-filter:v1 or oci://...@sha256:...")
      .option("-o, --output <file>", "where to write the module", "plugin.wasm")
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("pull", async (refText: string, o: PullOptions) => {
      const ref = parseReference(refText);
      const pulled = await pullImage(ref, await clientOptions(ref, o));
      await writeFile(o.output, pulled.wasm);
      const result = { digest: pulled.digest, variant: pulled.variant, output: o.output, size: pulled.wasm.length };
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else console.log(`${pulled.digest}\twrote ${o.output} (${pulled.wasm.length} bytes, ${pulled.variant} variant)`);
    }),
  );
}
