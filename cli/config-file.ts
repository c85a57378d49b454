// Configuration files named on the command line (simulate, run and generate's --config-file, the
// file migrate reads) are read with a bound: /dev/zero, a FIFO fed forever or a huge file ends in
// an error naming the file and the limit, not in memory running out. Read in chunks, synchronously,
// so each command keeps its one call site (simulate validates its options before it runs).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * 4 MiB. What Envoy runs reaches it through Kubernetes (WasmPlugin, TrafficExtension,
 * EnvoyExtensionPolicy) and etcd refuses an object over 1.5 MiB by default; istiod's xDS size
 * metrics take gRPC's 4 MiB default message size as the first hard boundary (pilot/pkg/xds/
 * monitoring.go). Envoy's own xDS client sets no limit (max_receive_message_length 0), so no
 * smaller figure comes from Envoy; 4 MiB is past anything that can be deployed.
 */
export const CONFIG_FILE_LIMIT = 4 * 1024 * 1024;

const CHUNK = 64 * 1024;

function describe(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes.toLocaleString("en-US")} bytes`;
}

function tooLarge(path: string, limit: number): Error {
  return new Error(
    `${path} is larger than ${describe(limit)}, the limit for a configuration file (Istio and Envoy Gateway carry a plugin's configuration in a Kubernetes object of at most 1.5 MiB)`,
  );
}

/** The whole file, or an error: `cannot read PATH: CODE`, or PATH is larger than the limit. */
export function readConfigFile(path: string, limit = CONFIG_FILE_LIMIT): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size > limit) throw tooLarge(path, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, CHUNK, null);
      } catch (error) {
        throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > limit) throw tooLarge(path, limit);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
