// What the reader generated for a @configuration class calls (see transform/configuration.ts). The generated
// code walks the object's members once, in document order: each member is matched to a field by name and read
// by the method for the field's type, with what the field expects already written out by the transform; a
// name no field has, or one given twice, is refused; after the walk, `@required` fields not seen are. Only the
// first problem is kept: `error` names the field's path and what was expected, e.g. `upstream.timeoutMs:
// expected an integer from 1 to 60000, got 0`.
import { describeJson } from "../json/field";
import { JsonKind, JsonValue, Member } from "../json/value";
import { lineOf, sameString, staticUtf8 } from "../runtime/strings";

/** The reader's words, lines of MESSAGES. */
export const enum Message {
  InvalidConfiguration,
  InvalidJson,
  ExpectedObject,
  Expected,
  Got,
  Separator,
  GivenTwice,
  UnknownField,
  Missing,
  Close
}

// UTF-8 static data (see staticUtf8): a byte a character, and no header or data segment per message.
// @ts-ignore: decorator
@lazy const MESSAGES = staticUtf8(`invalid configuration: \ninvalid JSON: \nexpected a JSON object, got \nexpected \n, got \n: \ngiven more than once
unknown field (expected one of: \nmissing (required: \n)
`);
// What an array's elements and a nested class's object expect.
// @ts-ignore: decorator
@lazy const A_STRING = staticUtf8("a string\n");
// @ts-ignore: decorator
@lazy const AN_OBJECT = staticUtf8("an object\n");

/** Line `message` of MESSAGES. */
export function messageText(message: Message): string {
  return lineOf(MESSAGES, message);
}

/**
 * The texts the generated code passes (what a field expects, the class's field names) are UTF-8 static data
 * ending with a line feed, as `staticUtf8` and the transform write them.
 */
export type Utf8Line = usize;

/** Field flags, from the field's decorators (`@required` is a check of its own, `missing`). */
export const NON_EMPTY = 2;

export class ConfigurationReader {
  /** The first problem, or "" while there is none. */
  error: string = "";
  /** The path of the object being read, ending with "." (nested), or "" (the configuration itself). */
  prefix: string = "";

  constructor(private object: JsonValue) {}

  /** The first member of the object being read. */
  first(): Member | null {
    // @ts-ignore: the chain is JsonValue's own, kept private from filter code
    return this.object.first;
  }

  /** Whether member name `key` is the field `name`. */
  // @ts-ignore: decorator
  @inline is(key: string, name: string): bool {
    return sameString(key, name);
  }

  string(key: string, value: JsonValue, flags: i32, expected: Utf8Line): string {
    if (value.kind != JsonKind.String || (flags & NON_EMPTY && value.asString().length == 0)) this.wrong(key, expected, value);
    return value.asString();
  }

  bool(key: string, value: JsonValue, flags: i32, expected: Utf8Line): bool {
    if (value.kind != JsonKind.Bool) this.wrong(key, expected, value);
    return value.asBool();
  }

  /** An integer literal (no fraction or exponent) from `min` to `max`: every integer type but u64. */
  integer(key: string, value: JsonValue, flags: i32, expected: Utf8Line, min: i64, max: i64): i64 {
    if (!value.isI64() || value.asI64() < min || value.asI64() > max) this.wrong(key, expected, value);
    return value.asI64();
  }

  unsigned(key: string, value: JsonValue, flags: i32, expected: Utf8Line, min: u64, max: u64): u64 {
    if (!value.isU64() || value.asU64() < min || value.asU64() > max) this.wrong(key, expected, value);
    return value.asU64();
  }

  /** A number from `min` to `max` (finite: JSON has no infinities, and one too large to be an f64 is refused). */
  float(key: string, value: JsonValue, flags: i32, expected: Utf8Line, min: f64, max: f64): f64 {
    const number = value.asNumber();
    if (value.kind != JsonKind.Number || !(number >= min && number <= max)) this.wrong(key, expected, value);
    return number;
  }

  strings(key: string, value: JsonValue, flags: i32, expected: Utf8Line): string[] {
    const strings = new Array<string>();
    if (value.kind != JsonKind.Array || (flags & NON_EMPTY && value.length == 0)) {
      this.wrong(key, expected, value);
      return strings;
    }
    // @ts-ignore: see first
    let member: Member | null = value.first;
    while (member) {
      const element = member.value;
      if (element.kind != JsonKind.String) {
        this.wrong(key + "[" + strings.length.toString() + "]", A_STRING, element);
        break;
      }
      strings.push(element.asString());
      member = member.next;
    }
    return strings;
  }

  /**
   * Steps into object `value` (null: the field is absent, read as `{}`, so the nested class's defaults, and an
   * error for its required fields) for a nested @configuration class. False when it is not an object; the
   * generated code puts `prefix` back afterwards.
   */
  enter(key: string, value: JsonValue | null): bool {
    const object = value ? value : JsonValue.newObject();
    if (object.kind != JsonKind.Object) {
      this.wrong(key, AN_OBJECT, object);
      return false;
    }
    this.object = object;
    this.prefix += key + ".";
    return true;
  }

  /**
   * A member no field has: a misspelt name would otherwise be ignored, and its default used. `names` are the
   * class's field names, separated by ", ", for the message.
   */
  unknown(key: string, names: Utf8Line): void {
    this.fail(key, messageText(Message.UnknownField) + lineOf(names, 0) + messageText(Message.Close));
  }

  /** A field's second member: JsonValue.get reads the last, a plain JSON.parse keeps it; neither is what was meant. */
  twice(key: string): void {
    this.fail(key, messageText(Message.GivenTwice));
  }

  /** A `@required` field no member gave. */
  missing(key: string, expected: Utf8Line): void {
    this.fail(key, messageText(Message.Missing) + lineOf(expected, 0) + messageText(Message.Close));
  }

  private wrong(key: string, expected: Utf8Line, value: JsonValue): void {
    this.fail(key, messageText(Message.Expected) + lineOf(expected, 0) + messageText(Message.Got) + describeJson(value));
  }

  /** Keeps the first problem only: the one a user fixes first, and later ones may follow from it. */
  private fail(key: string, problem: string): void {
    if (this.error.length == 0) this.error = this.prefix + key + messageText(Message.Separator) + problem;
  }
}
