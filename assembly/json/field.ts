// Typed reads of an object member that say what is wrong instead of defaulting: `{"keys": [1, 2]}` read
// with `getString("keys")` gives "", with `readString("keys")` an error naming the field and what it held.
import { lineOf, staticUtf8 } from "../runtime/strings";
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

// describeJson's words for what it does not quote, one line each (see staticUtf8).
// @ts-ignore: decorator
@lazy const DESCRIPTIONS = staticUtf8("an empty string\na string\nan array\nan object\n");

/** What a value is, for messages: "null", "true", the number as written, "a string", "an array"... (never a string's text, which may be a secret). */
export function describeJson(value: JsonValue): string {
  const kind = value.kind;
  // @ts-ignore: a scalar's JSON text ("null", "false", "-1.5e3"), private to filter code
  const text: string = value.text;
  if (kind < JsonKind.String) return text;
  return lineOf(DESCRIPTIONS, kind == JsonKind.String && text.length == 0 ? 0 : <i32>kind - 2);
}

/** The member `key` of `object` if it is of `kind`; else a field with the fallback and the reason. */
export function fieldOf<T>(object: JsonValue, key: string, kind: JsonKind, expected: string, fallback: T): JsonField<T> {
  const value = object.get(key);
  if (!value) return new JsonField<T>(FieldStatus.Missing, fallback, key + ": missing, expected " + expected);
  if (value.kind != kind) return new JsonField<T>(FieldStatus.WrongKind, fallback, key + ": expected " + expected + ", got " + describeJson(value));
  return new JsonField<T>(FieldStatus.Ok, fallback, "");
}
