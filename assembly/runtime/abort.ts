// Replacements for the `env.abort` and `env.seed` imports asc would otherwise add: Envoy offers neither.
// The asconfig preset wires them with `--use abort=proxyWasmAbort --use seed=proxyWasmSeed`.
import { proxy_log } from "../abi/imports";
import { decimal } from "../decimal";
import { LogLevel } from "../types";
import { encodeUtf8 } from "../utf8";

@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buffer: usize, length: usize): u16;

/** Logs the message with its file and line at critical level (proxy_log is allowed everywhere), then traps. */
// @ts-ignore: decorator
@global export function proxyWasmAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: " + (message != null ? message : "");
  if (fileName != null) text += " at " + fileName + ":" + decimal(line) + ":" + decimal(column);
  const bytes = encodeUtf8(text);
  proxy_log(LogLevel.Critical, changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}

/** Seeds Math.random from the host's random source (WASI random_get, which Envoy offers). */
// @ts-ignore: decorator
@global export function proxyWasmSeed(): f64 {
  const seed = memory.data(8);
  random_get(seed, 8);
  return reinterpret<f64>(load<u64>(seed));
}
