// Envoy attributes and filter state, addressed by path segments: getProperty(["request", "path"]).
import { getProperty as hostGetProperty, setProperty as hostSetProperty } from "./hostcalls/properties";
import { WasmResult } from "./types";

function encodePath(path: string[]): ArrayBuffer {
  return String.UTF8.encode(path.join("\0"));
}

/** The raw value, or null when the host has none. */
export function getProperty(path: string[]): ArrayBuffer | null {
  return hostGetProperty(encodePath(path));
}

/** A string-valued property (request.path, plugin_root_id, ...), or null when absent. */
export function getPropertyString(path: string[]): string | null {
  const value = getProperty(path);
  return value ? String.UTF8.decode(value) : null;
}

/** An integer property, which Envoy encodes as 8 bytes little-endian. */
export class IntegerProperty {
  constructor(readonly found: bool, readonly value: i64) {}
}

export function getPropertyInteger(path: string[]): IntegerProperty {
  const value = getProperty(path);
  if (!value || value.byteLength != 8) return new IntegerProperty(false, 0);
  return new IntegerProperty(true, load<i64>(changetype<usize>(value)));
}

/** A boolean property (connection.mtls, ...), which Envoy encodes as one byte; false when absent. */
export function getPropertyBool(path: string[]): bool {
  const value = getProperty(path);
  return value != null && value.byteLength == 1 && load<u8>(changetype<usize>(value)) != 0;
}

/** Stores a value as filter state; Envoy needs a stream context for this. */
export function setProperty(path: string[], value: ArrayBuffer): WasmResult {
  return hostSetProperty(encodePath(path), value);
}

export function setPropertyString(path: string[], value: string): WasmResult {
  return setProperty(path, String.UTF8.encode(value));
}
