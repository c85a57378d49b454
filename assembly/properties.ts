// Envoy attributes and filter state, addressed by path segments: getProperty(["request", "path"]).
import { getProperty as hostGetProperty, setProperty as hostSetProperty } from "./hostcalls/properties";
import { deserializePairs, Header } from "./pairs";
import { WasmResult } from "./types";
import { decodeUtf8, encodeUtf8 } from "./utf8";

function encodePath(path: string[]): ArrayBuffer {
  return encodeUtf8(path.join("\0"));
}

/** The raw value, or null when the host has none. */
export function getProperty(path: string[]): ArrayBuffer | null {
  return hostGetProperty(encodePath(path));
}

/** A string-valued property (request.path, plugin_root_id, ...), or null when absent. */
export function getPropertyString(path: string[]): string | null {
  const value = getProperty(path);
  return value ? decodeUtf8(value) : null;
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
  return setProperty(path, encodeUtf8(value));
}

/** A map-valued property (request.headers, node.metadata ...), which Envoy encodes as pairs; empty when absent. */
export function getPropertyMap(path: string[]): Header[] {
  const value = getProperty(path);
  return value ? deserializePairs(value) : new Array<Header>();
}

/** Envoy's attributes with their types (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes). */
export namespace attributes {
  export function requestPath(): string | null { return getPropertyString(["request", "path"]); }
  export function requestUrlPath(): string | null { return getPropertyString(["request", "url_path"]); }
  export function requestHost(): string | null { return getPropertyString(["request", "host"]); }
  export function requestMethod(): string | null { return getPropertyString(["request", "method"]); }
  export function requestScheme(): string | null { return getPropertyString(["request", "scheme"]); }
  export function requestId(): string | null { return getPropertyString(["request", "id"]); }
  export function requestProtocol(): string | null { return getPropertyString(["request", "protocol"]); }
  /** The request headers as Envoy's attribute gives them: repeated values joined by commas. */
  export function requestHeaders(): Header[] { return getPropertyMap(["request", "headers"]); }
  export function responseCode(): IntegerProperty { return getPropertyInteger(["response", "code"]); }
  export function sourceAddress(): string | null { return getPropertyString(["source", "address"]); }
  export function sourcePort(): IntegerProperty { return getPropertyInteger(["source", "port"]); }
  export function destinationAddress(): string | null { return getPropertyString(["destination", "address"]); }
  export function destinationPort(): IntegerProperty { return getPropertyInteger(["destination", "port"]); }
  export function connectionId(): IntegerProperty { return getPropertyInteger(["connection", "id"]); }
  export function connectionMtls(): bool { return getPropertyBool(["connection", "mtls"]); }
  export function connectionRequestedServerName(): string | null { return getPropertyString(["connection", "requested_server_name"]); }
  export function pluginName(): string | null { return getPropertyString(["plugin_name"]); }
  export function pluginRootId(): string | null { return getPropertyString(["plugin_root_id"]); }
  export function pluginVmId(): string | null { return getPropertyString(["plugin_vm_id"]); }
  export function clusterName(): string | null { return getPropertyString(["xds", "cluster_name"]); }
  export function routeName(): string | null { return getPropertyString(["xds", "route_name"]); }
}
