// Typed reads of an object member that say what is wrong instead of defaulting: `{"keys": [1, 2]}` read
// with `getString("keys")` gives "", with `readString("keys")` an error naming the field and what it held.
import { JsonKind, JsonValue } from "./value";

export enum FieldStatus {
  Ok,
  /** The object has no member of that name (or the value is not an object). */
  Missing,
  /** The member holds another kind of value. */
  WrongKind
}

/** A member read as `T`: `value` when `ok`, else `error` says why, e.g. `keys: expected a string, got an array`. */
export class JsonField<T> {
  constructor(readonly status: FieldStatus, readonly value: T, readonly error: string) {}

  get ok(): bool {
    return this.status == FieldStatus.Ok;
  }
}

/** What a value is, for messages: "null", "true", the number as written, "a string", "an array"... (never a string's text, which may be a secret). */
export function describeJson(value: JsonValue): string {
  switch (value.kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return value.asBool() ? "true" : "false";
    case JsonKind.Number: return value.numberText();
    case JsonKind.String: return value.asString().length ? "a string" : "an empty string";
    case JsonKind.Array: return "an array";
    default: return "an object";
  }
}

/** The member `key` of `object` if it is of `kind`; else a field with the fallback and the reason. */
export function fieldOf<T>(object: JsonValue, key: string, kind: JsonKind, expected: string, fallback: T): JsonField<T> {
  const value = object.get(key);
  if (!value) return new JsonField<T>(FieldStatus.Missing, fallback, key + ": missing, expected " + expected);
  if (value.kind != kind) return new JsonField<T>(FieldStatus.WrongKind, fallback, key + ": expected " + expected + ", got " + describeJson(value));
  return new JsonField<T>(FieldStatus.Ok, fallback, "");
}
