// Host extensions called by name, such as Envoy's compress, uncompress and declare_property.
import { callForeignFunction as hostCallForeignFunction, ForeignResult } from "./hostcalls/foreign";

export { ForeignResult };

/** Calls the host's function `name`; NotFound when the host has none by that name. */
export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  return hostCallForeignFunction(String.UTF8.encode(name), args);
}
