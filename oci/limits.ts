// How much the registry client reads, so a hostile registry cannot exhaust memory or time.
import { OciError } from "./errors.js";

/** Manifests and indexes larger than this are refused (containerd and oras use the same 4 MiB). */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** A token server's JSON answer, and the error body of a failed request. */
export const SMALL_BODY_LIMIT = 64 * 1024;
/** Redirects followed for one request. */
export const REDIRECT_LIMIT = 5;

/** Istio's default for ISTIO_WASM_MAX_BINARY_SIZE_BYTES (pilot/pkg/features/pilot.go): 256 MiB. */
export const ISTIO_DEFAULT_MAX_WASM_BYTES = 256 * 1024 * 1024;
export const MAX_WASM_ENV = "ISTIO_WASM_MAX_BINARY_SIZE_BYTES";

/** The limit Istio applies, read from the same variable istiod and the agent read. */
export function istioMaxWasmBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = env[MAX_WASM_ENV];
  if (value === undefined || value === "") return ISTIO_DEFAULT_MAX_WASM_BYTES;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new OciError(`${MAX_WASM_ENV}=${JSON.stringify(value)} is not a byte count`);
  }
  return Number(value);
}
