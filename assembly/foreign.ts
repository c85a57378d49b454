// Host extensions called by name, such as Envoy's compress, uncompress and declare_property.
import { callForeignFunction as hostCallForeignFunction, ForeignResult } from "./hostcalls/foreign";
import { encodeUtf8 } from "./utf8";

export { ForeignResult };

/** Calls the host's function `name`; NotFound when the host has none by that name. */
export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  return hostCallForeignFunction(encodeUtf8(name), args);
}
