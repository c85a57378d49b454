// The protobuf arguments of Envoy's declare_property and set_envoy_filter_state foreign functions
// (source/extensions/common/wasm/ext/declare_property.proto, set_envoy_filter_state.proto), read
// from the wire format: only the fields Envoy uses; null where Envoy's ParseFromString fails.

/** DeclarePropertyArguments: name = 1, readonly = 2, type = 3, schema = 4, span = 5. */
export interface DeclarePropertyArguments {
  name: string;
  readonly: boolean;
}

/** SetEnvoyFilterStateArguments: path = 1, value = 2, span = 3. */
export interface SetEnvoyFilterStateArguments {
  path: string;
  value: string;
}

export function declarePropertyArguments(bytes: Uint8Array): DeclarePropertyArguments | null {
  const fields = readFields(bytes);
  if (fields === null) return null;
  const name = text(fields.get(1));
  if (name === null) return null;
  const readonly = fields.get(2);
  return { name, readonly: typeof readonly === "bigint" && readonly !== 0n };
}

export function setEnvoyFilterStateArguments(bytes: Uint8Array): SetEnvoyFilterStateArguments | null {
  const fields = readFields(bytes);
  if (fields === null) return null;
  const path = text(fields.get(1));
  const value = text(fields.get(2));
  return path === null || value === null ? null : { path, value };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A proto3 string field: "" when absent, null when not valid UTF-8 (protobuf refuses those) or not bytes. */
function text(field: bigint | Uint8Array | undefined): string | null {
  if (field === undefined) return "";
  if (typeof field === "bigint") return null;
  try {
    return utf8.decode(field);
  } catch {
    return null;
  }
}

/** Field number -> last value (varint as bigint, length-delimited as bytes); null if malformed. */
function readFields(bytes: Uint8Array): Map<number, bigint | Uint8Array> | null {
  const fields = new Map<number, bigint | Uint8Array>();
  let at = 0;
  const varint = (): bigint | null => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) return null;
      const b = bytes[at++];
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
    return null;
  };
  while (at < bytes.length) {
    const key = varint();
    if (key === null) return null;
    const field = Number(key >> 3n);
    if (field === 0) return null;
    switch (Number(key & 7n)) {
      case 0: {
        const v = varint();
        if (v === null) return null;
        fields.set(field, v);
        break;
      }
      case 1:
        if ((at += 8) > bytes.length) return null;
        break;
      case 2: {
        const length = varint();
        if (length === null || BigInt(at) + length > BigInt(bytes.length)) return null;
        fields.set(field, bytes.subarray(at, at + Number(length)));
        at += Number(length);
        break;
      }
      case 5:
        if ((at += 4) > bytes.length) return null;
        break;
      default:
        return null;
    }
  }
  return fields;
}
