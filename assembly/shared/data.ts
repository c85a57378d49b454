// Shared data: one key-value store per vm_id, shared by every VM (every worker thread) with that id.
// Writes carry a compare-and-swap token, so concurrent VMs never lose an update.
import { getSharedData, setSharedData, SharedDataValue } from "../hostcalls/shared";
import { WasmResult } from "../types";
import { decodeUtf8, encodeUtf8 } from "../utf8";

export { SharedDataValue };

/** The host's CAS counter starts at 1 and counts up: this value is the last it would reach. */
const NEW_KEY_CAS: u32 = u32.MAX_VALUE;

export namespace SharedData {
  /** The value and its CAS token; `result` is NotFound when the key was never set. */
  export function get(key: string): SharedDataValue {
    return getSharedData(encodeUtf8(key));
  }

  /** Writes `value` if the key's CAS still equals `cas` (0 writes unconditionally); CasMismatch otherwise. */
  export function set(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
    return setSharedData(encodeUtf8(key), value, cas);
  }

  export function getString(key: string): string | null {
    const read = get(key);
    return read.value ? decodeUtf8(read.value!) : null;
  }

  export function setString(key: string, value: string, cas: u32 = 0): WasmResult {
    return set(key, encodeUtf8(value), cas);
  }

  /**
   * The compare-and-swap retry loop: reads the value (null when absent), asks `update` for the new one
   * (null leaves it as it is), and writes it with the CAS it read, retrying on CasMismatch.
   * `state` is handed to `update`, which cannot capture locals. Returns Ok, or CasMismatch when
   * every attempt lost the race.
   * Creating the key is safe too: it is written with a CAS no key holds (the host accepts any CAS
   * for a new key), so a VM that created it first makes this write fail and retry, instead of CAS 0
   * overwriting it unconditionally.
   */
  export function update<T>(key: string, state: T, update: (current: ArrayBuffer | null, state: T) => ArrayBuffer | null, maxAttempts: i32 = 16): WasmResult {
    const encodedKey = encodeUtf8(key);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = getSharedData(encodedKey);
      if (current.result != WasmResult.Ok && current.result != WasmResult.NotFound) return current.result;
      const next = update(current.value, state);
      if (!next) return WasmResult.Ok;
      const cas = current.result == WasmResult.NotFound ? NEW_KEY_CAS : current.cas;
      const result = setSharedData(encodedKey, next, cas);
      if (result != WasmResult.CasMismatch) return result;
    }
    return WasmResult.CasMismatch;
  }
}
