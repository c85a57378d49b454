// Shared data: one key-value store per vm_id, shared by every VM (every worker thread) with that id.
// Writes carry a compare-and-swap token, so concurrent VMs never lose an update.
import { getSharedData, setSharedData, SharedDataValue } from "../hostcalls/shared";
import { WasmResult } from "../types";

export { SharedDataValue };

export namespace SharedData {
  /** The value and its CAS token; `result` is NotFound when the key was never set. */
  export function get(key: string): SharedDataValue {
    return getSharedData(String.UTF8.encode(key));
  }

  /** Writes `value` if the key's CAS still equals `cas` (0 writes unconditionally); CasMismatch otherwise. */
  export function set(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
    return setSharedData(String.UTF8.encode(key), value, cas);
  }

  export function getString(key: string): string | null {
    const read = get(key);
    return read.value ? String.UTF8.decode(read.value!) : null;
  }

  export function setString(key: string, value: string, cas: u32 = 0): WasmResult {
    return set(key, String.UTF8.encode(value), cas);
  }

  /**
   * The compare-and-swap retry loop: reads the value (null when absent), asks `update` for the new one
   * (null leaves it as it is), and writes it with the CAS it read, retrying on CasMismatch.
   * `state` is handed to `update`, which cannot capture locals. Returns Ok, or CasMismatch when
   * every attempt lost the race.
   */
  export function update<T>(key: string, state: T, update: (current: ArrayBuffer | null, state: T) => ArrayBuffer | null, maxAttempts: i32 = 16): WasmResult {
    const encodedKey = String.UTF8.encode(key);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = getSharedData(encodedKey);
      if (current.result != WasmResult.Ok && current.result != WasmResult.NotFound) return current.result;
      const next = update(current.value, state);
      if (!next) return WasmResult.Ok;
      const result = setSharedData(encodedKey, next, current.cas);
      if (result != WasmResult.CasMismatch) return result;
    }
    return WasmResult.CasMismatch;
  }
}
