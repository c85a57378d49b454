import { sameString } from "../runtime/strings";
import { fieldOf, FieldStatus, JsonField } from "./field";
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

/** A member of a container: an array's (named "") or an object's. Containers chain them in document order. */
export class Member {
  next: Member | null = null;
  constructor(readonly name: string, public value: JsonValue) {}
}

/**
 * A JSON value, parsed or built with the factories. Accessors never trap:
 * asking a value for the wrong kind returns a neutral result ("", 0, false,
 * null) instead, and mutators ignore values of the wrong kind. To be told
 * instead, use `has` and the `read...` accessors, or read a whole
 * configuration with `readConfiguration` (assembly/config).
 *
 * Values must form a tree: a container that contains itself makes `toString`
 * run out of memory.
 */
export class JsonValue {
  // Members are a chain rather than arrays, so a document read only by name (a configuration) links no
  // Array code into the plugin; `at` and `keyAt` index them once after each change.
  private first: Member | null = null;
  private last: Member | null = null;
  private count: i32 = 0;
  private index: Member[] | null = null;

  private constructor(
    readonly kind: JsonKind,
    /** String contents; for the other scalars their JSON text ("null", "true", "-1.5e3"). */
    private text: string = ""
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

  /** An empty array; `push` fills it. */
  static newArray(): JsonValue {
    return new JsonValue(JsonKind.Array);
  }

  /** An empty object; `set` and `append` fill it. */
  static newObject(): JsonValue {
    return new JsonValue(JsonKind.Object);
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
    return this.count;
  }

  /** Array element `i`, or the value of object member `i` (pairs with `keyAt(i)`). */
  at(i: i32): JsonValue | null {
    let member = this.memberAt(i);
    return member ? member.value : null;
  }

  /** The name of object member `i`, or "" if there is none. */
  keyAt(i: i32): string {
    let member = this.memberAt(i);
    return member ? member.name : "";
  }

  /** Member names in document order, duplicates included; empty unless an object. */
  keys(): string[] {
    let names = new Array<string>();
    if (this.kind != JsonKind.Object) return names;
    let member = this.first;
    while (member) {
      names.push(member.name);
      member = member.next;
    }
    return names;
  }

  /** Object member `key`; with duplicate names the last one wins, as in JavaScript. */
  get(key: string): JsonValue | null {
    let member = this.lastNamed(key);
    return member ? member.value : null;
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

  /** Whether object member `key` exists, whatever its value (null included). */
  has(key: string): bool {
    return this.lastNamed(key) != null;
  }

  /** Member `key` as a string, or why not: missing, or another kind (see `JsonField`). */
  readString(key: string): JsonField<string> {
    const field = fieldOf<string>(this, key, JsonKind.String, "a string", "");
    return field.ok ? new JsonField<string>(FieldStatus.Ok, this.get(key)!.text, "") : field;
  }

  /** Member `key` as a number, or why not. */
  readNumber(key: string): JsonField<f64> {
    const field = fieldOf<f64>(this, key, JsonKind.Number, "a number", 0);
    return field.ok ? new JsonField<f64>(FieldStatus.Ok, this.get(key)!.asNumber(), "") : field;
  }

  /** Member `key` as an exact integer (no fraction or exponent, in the i64 range), or why not. */
  readInteger(key: string): JsonField<i64> {
    const field = fieldOf<i64>(this, key, JsonKind.Number, "an integer", 0);
    if (!field.ok) return field;
    const value = this.get(key)!;
    if (!value.isI64()) return new JsonField<i64>(FieldStatus.WrongKind, 0, key + ": expected an integer, got " + value.text);
    return new JsonField<i64>(FieldStatus.Ok, value.asI64(), "");
  }

  /** Member `key` as a boolean, or why not. */
  readBool(key: string): JsonField<bool> {
    const field = fieldOf<bool>(this, key, JsonKind.Bool, "true or false", false);
    return field.ok ? new JsonField<bool>(FieldStatus.Ok, this.get(key)!.asBool(), "") : field;
  }

  /** Replaces the value of object member `key` (the last one, with duplicates) or appends the member. */
  set(key: string, value: JsonValue): void {
    let member = this.lastNamed(key);
    if (member) member.value = value;
    else this.append(key, value);
  }

  /** Appends object member `key` even if the name is taken, as a document with duplicate names does. */
  append(key: string, value: JsonValue): void {
    if (this.kind == JsonKind.Object) this.add(key, value);
  }

  /** Removes every object member named `key`; false if there was none. */
  remove(key: string): bool {
    if (this.kind != JsonKind.Object) return false;
    let count = this.count;
    let member: Member | null = this.first;
    this.first = this.last = null;
    this.count = 0;
    while (member) {
      let next = member.next;
      if (!sameString(member.name, key)) this.link(member);
      member = next;
    }
    return this.count < count;
  }

  /** Appends an array element. */
  push(value: JsonValue): void {
    if (this.kind == JsonKind.Array) this.add("", value);
  }

  /** Compact JSON: no whitespace, members in order, numbers as written, strings escaped (see `writeJson`). */
  toString(): string {
    return writeJson(this);
  }

  /** Appends a member without checking the kind: the parser adds each member it reads through here. */
  private add(name: string, value: JsonValue): void {
    this.link(new Member(name, value));
  }

  private link(member: Member): void {
    member.next = null;
    let last = this.last;
    if (last) last.next = member;
    else this.first = member;
    this.last = member;
    this.count++;
    this.index = null;
  }

  /** The last object member named `key`, or null. */
  private lastNamed(key: string): Member | null {
    let found: Member | null = null;
    if (this.kind != JsonKind.Object) return found;
    let member = this.first;
    while (member) {
      if (sameString(member.name, key)) found = member;
      member = member.next;
    }
    return found;
  }

  private memberAt(i: i32): Member | null {
    if (<u32>i >= <u32>this.count) return null;
    let index = this.index;
    if (!index) {
      index = new Array<Member>();
      let member = this.first;
      while (member) {
        index.push(member);
        member = member.next;
      }
      this.index = index;
    }
    return unchecked(index[i]);
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
