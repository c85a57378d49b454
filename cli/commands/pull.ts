// `proxy-wasm-as pull REF`: fetches an image the way Istio does and writes its plugin.wasm.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { printable } from "../../oci/printable.js";
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
      .description("pull a Wasm image (docker, compat or oci format, chosen as Istio's fetcher does) and write its plugin.wasm")
      .argument("<ref>", "the image, e.g. ghcr.io/me/my-filter:v1 or oci://...@sha256:...")
      .option("-o, --output <file>", "where to write the module", "plugin.wasm")
      .option("--json", "print the result as JSON"),
  ).action(
    reportErrors("pull", async (refText: string, o: PullOptions) => {
      const ref = parseReference(refText);
      const pulled = await pullImage(ref, await clientOptions("pull", ref, o));
      await writeFile(o.output, pulled.wasm);
      const result = {
        digest: pulled.digest,
        format: pulled.format,
        output: o.output,
        size: pulled.wasm.length,
        envoyReady: pulled.check.ok,
        problems: pulled.check.problems,
      };
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else console.log(`${pulled.digest}\twrote ${o.output} (${pulled.wasm.length} bytes, ${pulled.format} format)`);
      if (!pulled.check.ok) {
        process.stderr.write(`proxy-wasm-as pull: warning: Envoy would refuse this module: ${printable(pulled.check.problems[0])}\n`);
      }
    }),
  );
}
