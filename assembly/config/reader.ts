// What the reader generated for a @configuration class calls, one method per field type (see
// transform/configuration.ts), with what the field expects already written out by the transform. The first problem stops the reading: every later call returns its fallback,
// and `error` names the field's path and what was expected, e.g. `upstream.timeoutMs: expected an integer
// from 1 to 60000, got 0`.
import { describeJson } from "../json/field";
import { JsonKind, JsonValue, Member } from "../json/value";
import { sameString } from "../runtime/strings";

/** Field flags, from the field's decorators (`@required` is a call of its own, `require`). */
export const NON_EMPTY = 2;

/** An object the reader stepped into, and where to go back to. */
class Frame {
  constructor(readonly object: JsonValue, readonly prefix: string, readonly parent: Frame | null) {}
}

// @ts-ignore: decorator
@inline function firstOf(container: JsonValue): Member | null {
  // @ts-ignore: the chain is JsonValue's own, kept private from filter code
  return container.first;
}

// @ts-ignore: decorator
@inline function wasRead(member: Member): bool {
  // @ts-ignore: the mark is the reader's own, kept private from filter code
  return member.read;
}

// @ts-ignore: decorator
@inline function markRead(member: Member): void {
  // @ts-ignore: see wasRead
  member.read = true;
}

/** Reads one parsed object once: it marks the members it reads, which is how `only` finds the rest. */
export class ConfigurationReader {
  /** The first problem, or "" while there is none. */
  error: string = "";
  private frame: Frame;

  constructor(root: JsonValue) {
    this.frame = new Frame(root, "", null);
  }

  string(key: string, fallback: string, flags: i32, expected: string): string {
    const value = this.field(key);
    if (!value) return fallback;
    if (value.kind != JsonKind.String || (flags & NON_EMPTY && value.asString().length == 0)) return this.wrong<string>(key, expected, value, fallback);
    return value.asString();
  }

  bool(key: string, fallback: bool, flags: i32, expected: string): bool {
    const value = this.field(key);
    if (!value) return fallback;
    if (value.kind != JsonKind.Bool) return this.wrong<bool>(key, expected, value, fallback);
    return value.asBool();
  }

  /** An integer literal (no fraction or exponent) from `min` to `max`: every integer type but u64. */
  integer(key: string, fallback: i64, flags: i32, expected: string, min: i64, max: i64): i64 {
    const value = this.field(key);
    if (!value) return fallback;
    if (!value.isI64() || value.asI64() < min || value.asI64() > max) return this.wrong<i64>(key, expected, value, fallback);
    return value.asI64();
  }

  unsigned(key: string, fallback: u64, flags: i32, expected: string, min: u64, max: u64): u64 {
    const value = this.field(key);
    if (!value) return fallback;
    if (!value.isU64() || value.asU64() < min || value.asU64() > max) return this.wrong<u64>(key, expected, value, fallback);
    return value.asU64();
  }

  /** A number from `min` to `max` (finite: JSON has no infinities, and one too large to be an f64 is refused). */
  float(key: string, fallback: f64, flags: i32, expected: string, min: f64, max: f64): f64 {
    const value = this.field(key);
    if (!value) return fallback;
    const number = value.asNumber();
    if (value.kind != JsonKind.Number || !(number >= min && number <= max)) return this.wrong<f64>(key, expected, value, fallback);
    return number;
  }

  strings(key: string, fallback: string[], flags: i32, expected: string): string[] {
    const value = this.field(key);
    if (!value) return fallback;
    if (value.kind != JsonKind.Array || (flags & NON_EMPTY && value.length == 0)) return this.wrong<string[]>(key, expected, value, fallback);
    const strings = new Array<string>();
    let member = firstOf(value);
    while (member) {
      const element = member.value;
      if (element.kind != JsonKind.String) return this.wrong<string[]>(key + "[" + strings.length.toString() + "]", "a string", element, fallback);
      strings.push(element.asString());
      member = member.next;
    }
    return strings;
  }

  /** Any JSON value, kept as parsed (for a field whose shape is the plugin's business, e.g. a value to insert). */
  json(key: string, fallback: JsonValue, flags: i32, expected: string): JsonValue {
    const value = this.field(key);
    return value ? value : fallback;
  }

  /**
   * Steps into object `key` for a nested @configuration class; false after an error. An absent object reads as
   * `{}`: the nested class's defaults, and an error for its required fields.
   */
  enter(key: string, flags: i32, expected: string): bool {
    let value = this.field(key);
    if (this.error.length) return false;
    if (!value) value = JsonValue.newObject();
    if (value.kind != JsonKind.Object) return this.wrong<bool>(key, expected, value, false);
    this.frame = new Frame(value, this.frame.prefix + key + ".", this.frame);
    return true;
  }

  leave(): void {
    const parent = this.frame.parent;
    if (parent) this.frame = parent;
  }

  /**
   * After the fields were read: refuses a member none of them read, which the class has no field for (a
   * misspelt name would otherwise be ignored, and its default used) or which repeats a name (the last one is
   * read, as JsonValue.get does). `names` are the class's field names, separated by ", ", for the message.
   */
  only(names: string): void {
    if (this.error.length) return;
    const object = this.frame.object;
    let member = firstOf(object);
    while (member) {
      if (!wasRead(member)) {
        this.fail(member.name, hasNamesake(object, member) ? "given more than once" : "unknown field (expected one of: " + names + ")");
        return;
      }
      member = member.next;
    }
  }

  /**
   * Refuses the configuration when member `key` is absent: the transform calls this before reading a
   * `@required` field, so a plugin whose fields are all optional carries none of it.
   */
  require(key: string, expected: string): void {
    if (!this.error.length && !this.member(key)) this.fail(key, "missing (required: " + expected + ")");
  }

  /**
   * Member `key` of the current object, marked read for `only`; null when it is absent (`require` reported
   * that already if it had to) or after an error.
   */
  private field(key: string): JsonValue | null {
    if (this.error.length) return null;
    const found = this.member(key);
    if (!found) return null;
    markRead(found);
    return found.value;
  }

  /** The last member named `key`, as JsonValue.get finds it. */
  private member(key: string): Member | null {
    let found: Member | null = null;
    let member = firstOf(this.frame.object);
    while (member) {
      if (sameString(member.name, key)) found = member;
      member = member.next;
    }
    return found;
  }

  private wrong<T>(key: string, expected: string, value: JsonValue, fallback: T): T {
    this.fail(key, "expected " + expected + ", got " + describeJson(value));
    return fallback;
  }

  private fail(key: string, problem: string): void {
    if (this.error.length == 0) this.error = this.frame.prefix + key + ": " + problem;
  }
}

/** Whether another member of `object` has `member`'s name. */
function hasNamesake(object: JsonValue, member: Member): bool {
  let other = firstOf(object);
  while (other) {
    if (other != member && sameString(other.name, member.name)) return true;
    other = other.next;
  }
  return false;
}
