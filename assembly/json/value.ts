import { toF64 } from "./number";
import { writeJson } from "./writer";

/** The six JSON value types (RFC 8259 §3). */
export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object
}

/**
 * A JSON value, parsed or built with the factories. Accessors never trap:
 * asking a value for the wrong kind returns a neutral result ("", 0, false,
 * null) instead, and mutators ignore values of the wrong kind.
 *
 * Values must form a tree: a container that contains itself makes `toString`
 * run out of memory.
 */
export class JsonValue {
  private constructor(
    readonly kind: JsonKind,
    /** String contents; for the other scalars their JSON text ("null", "true", "-1.5e3"). */
    private text: string = "",
    /** Array elements, or object member values in document order. */
    private items: JsonValue[] | null = null,
    /** Object member names, parallel to `items`. */
    private names: string[] | null = null
  ) {}

  static newNull(): JsonValue {
    return new JsonValue(JsonKind.Null, "null");
  }

  static newBool(value: bool): JsonValue {
    return new JsonValue(JsonKind.Bool, value ? "true" : "false");
  }

  /** `text` must be a valid JSON number (e.g. another value's `numberText()`); it is written as is. */
  static newNumber(text: string): JsonValue {
    return new JsonValue(JsonKind.Number, text);
  }

  static fromI64(value: i64): JsonValue {
    return JsonValue.newNumber(value.toString());
  }

  static fromU64(value: u64): JsonValue {
    return JsonValue.newNumber(value.toString());
  }

  /** A number written in AssemblyScript's shortest form (e.g. "0.1", "5.0", "1e+21"); NaN and ±Infinity, which JSON cannot express, become null. */
  static fromF64(value: f64): JsonValue {
    return isFinite(value) ? JsonValue.newNumber(value.toString()) : JsonValue.newNull();
  }

  static newString(value: string): JsonValue {
    return new JsonValue(JsonKind.String, value);
  }

  /** An array holding `items` itself (not a copy). */
  static newArray(items: JsonValue[] = []): JsonValue {
    return new JsonValue(JsonKind.Array, "", items);
  }

  /** `names[i]` is the name of `items[i]`; the arrays (kept, not copied) must have equal length. */
  static newObject(names: string[] = [], items: JsonValue[] = []): JsonValue {
    return new JsonValue(JsonKind.Object, "", items, names);
  }

  isNull(): bool {
    return this.kind == JsonKind.Null;
  }

  /** The boolean, or false for any other kind. */
  asBool(): bool {
    return this.kind == JsonKind.Bool && this.text.length == 4; // "true"
  }

  /** The decoded string, or "" for any other kind. */
  asString(): string {
    return this.kind == JsonKind.String ? this.text : "";
  }

  /** The number as written in the document (e.g. "1e3"), or "" for any other kind. */
  numberText(): string {
    return this.kind == JsonKind.Number ? this.text : "";
  }

  /** The number as f64 (see `toF64` for precision), or 0 for any other kind. Converted on demand. */
  asNumber(): f64 {
    return this.kind == JsonKind.Number ? toF64(this.text) : 0;
  }

  /** True for an integer literal (no fraction or exponent) in the i64 range. */
  isI64(): bool {
    if (!this.readMagnitude()) return false;
    return magnitude <= (this.isNegative() ? <u64>i64.MIN_VALUE : <u64>i64.MAX_VALUE);
  }

  /** True for an integer literal (no fraction or exponent) in the u64 range; "-0" counts. */
  isU64(): bool {
    return this.readMagnitude() && (!this.isNegative() || magnitude == 0);
  }

  /** True when the number is exactly readable by `asI64` or `asU64`. */
  isInteger(): bool {
    return this.isI64() || this.isU64();
  }

  /** The exact integer when `isI64()`, else 0. */
  asI64(): i64 {
    if (!this.isI64()) return 0;
    return this.isNegative() ? -(<i64>magnitude) : <i64>magnitude;
  }

  /** The exact integer when `isU64()`, else 0. */
  asU64(): u64 {
    return this.isU64() ? magnitude : 0;
  }

  /** Element count of an array, member count of an object (duplicates included), else 0. */
  get length(): i32 {
    let items = this.items;
    return items ? items.length : 0;
  }

  /** Array element `i`, or the value of object member `i` (pairs with `keyAt(i)`). */
  at(i: i32): JsonValue | null {
    let items = this.items;
    if (!items || <u32>i >= <u32>items.length) return null;
    return unchecked(items[i]);
  }

  /** The name of object member `i`, or "" if there is none. */
  keyAt(i: i32): string {
    let names = this.names;
    if (!names || <u32>i >= <u32>names.length) return "";
    return unchecked(names[i]);
  }

  /** Member names in document order, duplicates included; empty unless an object. */
  keys(): string[] {
    let names = this.names;
    return names ? names.slice(0) : [];
  }

  /** Object member `key`; with duplicate names the last one wins, as in JavaScript. */
  get(key: string): JsonValue | null {
    let i = this.lastIndexOf(key);
    let items = this.items;
    return i >= 0 && items ? unchecked(items[i]) : null;
  }

  /** Member `key` if it is a string, else `fallback`. */
  getString(key: string, fallback: string = ""): string {
    let value = this.get(key);
    return value && value.kind == JsonKind.String ? value.text : fallback;
  }

  /** Member `key` if it is a number, else `fallback`. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    let value = this.get(key);
    return value && value.kind == JsonKind.Number ? value.asNumber() : fallback;
  }

  /** Member `key` if it is a boolean, else `fallback`. */
  getBool(key: string, fallback: bool = false): bool {
    let value = this.get(key);
    return value && value.kind == JsonKind.Bool ? value.asBool() : fallback;
  }

  /** Replaces the value of object member `key` (the last one, with duplicates) or appends the member. */
  set(key: string, value: JsonValue): void {
    let i = this.lastIndexOf(key);
    let items = this.items;
    if (i >= 0 && items) unchecked(items[i] = value);
    else this.append(key, value);
  }

  /** Appends object member `key` even if the name is taken, as a document with duplicate names does. */
  append(key: string, value: JsonValue): void {
    let names = this.names;
    let items = this.items;
    if (names && items) {
      names.push(key);
      items.push(value);
    }
  }

  /** Removes every object member named `key`; false if there was none. */
  remove(key: string): bool {
    let names = this.names;
    let items = this.items;
    if (!names || !items) return false;
    let count = min(names.length, items.length);
    let kept = 0;
    for (let i = 0; i < count; ++i) {
      let name = unchecked(names[i]);
      if (name == key) continue;
      unchecked(names[kept] = name);
      unchecked(items[kept] = items[i]);
      kept++;
    }
    names.length = kept;
    items.length = kept;
    return kept < count;
  }

  /** Appends an array element. */
  push(value: JsonValue): void {
    let items = this.items;
    if (items && !this.names) items.push(value);
  }

  /** Compact JSON: no whitespace, members in order, numbers as written, strings escaped (see `writeJson`). */
  toString(): string {
    return writeJson(this);
  }

  /** Index of the last object member named `key`, or -1. */
  private lastIndexOf(key: string): i32 {
    let names = this.names;
    let items = this.items;
    if (!names || !items) return -1;
    for (let i = min(names.length, items.length) - 1; i >= 0; --i) {
      if (unchecked(names[i]) == key) return i;
    }
    return -1;
  }

  private isNegative(): bool {
    return this.text.charCodeAt(0) == 0x2D; // '-'
  }

  /** Puts the magnitude of an integer literal in `magnitude`; false for any other value or past 64 bits. */
  private readMagnitude(): bool {
    if (this.kind != JsonKind.Number) return false;
    let text = this.text;
    magnitude = 0;
    for (let i = <i32>this.isNegative(), n = text.length; i < n; ++i) {
      let digit = <u32>(text.charCodeAt(i) - 0x30);
      if (digit > 9 || magnitude > (u64.MAX_VALUE - digit) / 10) return false; // '.', 'e', 'E' or overflow
      magnitude = magnitude * 10 + digit;
    }
    return true;
  }
}

/** Result of the last `readMagnitude`, read right after it. */
let magnitude: u64 = 0;
