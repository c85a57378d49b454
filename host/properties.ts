// Property lookup as Envoy's Context::getProperty walks it (context.cc findValue/getProperty):
// the stream's attributes first (request.*, response.*, filter state written by set_property),
// then the plugin tokens, then the values the test gave (options.properties, per-stream
// properties), then this host's defaults for a local connection (source/destination/connection).
// Values are serialized as Envoy's serializeValue(): strings and bytes raw, integers as 8-byte
// little-endian int64, other numbers as 8-byte doubles, booleans as 1 byte, maps as pairs and
// lists as pairs with empty values.

import { encodePairs } from "./abi/pairs.js";
import type { HostContext } from "./context.js";
import type { Vm } from "./vm.js";

export type PropertyScalar = string | Uint8Array | bigint | number | boolean;
/** A property value: a scalar, a list (e.g. SANs) or a map (e.g. node metadata). */
export type PropertyValue = PropertyScalar | PropertyValue[] | { [key: string]: PropertyValue };

const isMap = (v: PropertyValue): v is { [key: string]: PropertyValue } =>
  typeof v === "object" && !(v instanceof Uint8Array) && !Array.isArray(v);

/** Envoy serializeValue(). */
export function encodePropertyValue(value: PropertyValue): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value.slice();
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  if (Array.isArray(value)) return encodePairs(value.map((v) => [encodePropertyValue(v), ""]));
  if (isMap(value)) return encodePairs(Object.entries(value).map(([k, v]) => [k, encodePropertyValue(v)]));
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  if (typeof value === "number" && !Number.isInteger(value)) view.setFloat64(0, value, true);
  else view.setBigInt64(0, BigInt.asIntN(64, BigInt(value)), true);
  return out;
}

/** Dotted attribute names ("source.address") -> values, as given. */
export function encodeProperties(props: Record<string, PropertyValue> | undefined): Map<string, PropertyValue> {
  return new Map(Object.entries(props ?? {}));
}

/**
 * The plugin's properties with a stream's own on top, merged when the module first reads one:
 * the dev proxy gives every stream its addresses and most streams never read them.
 */
export class MergedProperties implements ReadonlyMap<string, PropertyValue> {
  private built: Map<string, PropertyValue> | null = null;

  constructor(
    private readonly plugin: Record<string, PropertyValue> | undefined,
    private readonly own: Record<string, PropertyValue> | undefined,
  ) {}

  private get merged(): Map<string, PropertyValue> {
    if (this.built === null) {
      this.built = encodeProperties(this.plugin);
      const own = this.own;
      if (own !== undefined) for (const name in own) if (Object.hasOwn(own, name)) this.built.set(name, own[name]);
    }
    return this.built;
  }

  get size(): number {
    return this.merged.size;
  }
  get(key: string): PropertyValue | undefined {
    return this.merged.get(key);
  }
  has(key: string): boolean {
    return this.merged.has(key);
  }
  keys(): MapIterator<string> {
    return this.merged.keys();
  }
  values(): MapIterator<PropertyValue> {
    return this.merged.values();
  }
  entries(): MapIterator<[string, PropertyValue]> {
    return this.merged.entries();
  }
  forEach(fn: (value: PropertyValue, key: string, map: ReadonlyMap<string, PropertyValue>) => void): void {
    this.merged.forEach((v, k) => fn(v, k, this));
  }
  [Symbol.iterator](): MapIterator<[string, PropertyValue]> {
    return this.merged.entries();
  }
}

/** Splits a NUL-joined path like Envoy: a trailing NUL adds no empty segment. */
export function splitPath(path: string): string[] {
  const parts = path.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/**
 * Finds `segments` in a table of dotted names: the longest dotted prefix that is a key, then
 * walks maps by key and lists by index (Envoy getProperty), e.g. "node.metadata" = {NS: "x"}
 * answers node\0metadata\0NS.
 */
export function findProperty(table: ReadonlyMap<string, PropertyValue>, segments: string[]): Uint8Array | undefined {
  // A key has at most as many segments as its dots allow: a hostile path of 50,000 segments costs
  // no more than a short one (trying every prefix would be quadratic in the path's length).
  let longestKey = 0;
  for (const key of table.keys()) longestKey = Math.max(longestKey, key.split(".").length);
  for (let n = Math.min(segments.length, longestKey); n >= 1; n--) {
    let value = table.get(segments.slice(0, n).join("."));
    if (value === undefined) continue;
    for (const part of segments.slice(n)) {
      if (Array.isArray(value)) {
        const i = Number(part);
        value = Number.isInteger(i) && i >= 0 && i < value.length ? value[i] : undefined;
      } else if (value !== undefined && isMap(value)) {
        value = Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined;
      } else {
        value = undefined;
      }
      if (value === undefined) return undefined;
    }
    return encodePropertyValue(value);
  }
  return undefined;
}

/** What Envoy knows about a local downstream connection; options.properties override each. */
export function connectionDefaults(connectionId: number): Map<string, PropertyValue> {
  return new Map<string, PropertyValue>([
    ["source.address", "127.0.0.1:50000"],
    ["source.port", 50000],
    ["destination.address", "127.0.0.1:10000"],
    ["destination.port", 10000],
    ["connection.id", connectionId],
    ["connection.mtls", false],
    ["connection.requested_server_name", ""],
    ["connection_id", connectionId],
  ]);
}

export function lookupProperty(vm: Vm, ctx: HostContext, path: string): Uint8Array | undefined {
  const segments = splitPath(path);
  const attributes = ctx.attributes;
  const fromStream = attributes?.property(segments);
  if (fromStream !== undefined) return fromStream;
  const plugin = ctx.plugin;
  const tokens: Record<string, string | undefined> = {
    plugin_name: plugin?.name,
    plugin_root_id: plugin?.rootId ?? "",
    plugin_vm_id: vm.config.vmId,
  };
  const token = tokens[segments[0]];
  if (token !== undefined) return segments.length === 1 ? new TextEncoder().encode(token) : undefined;
  if (attributes) return attributes.userProperty(segments);
  return plugin ? findProperty(plugin.properties, segments) : undefined;
}
