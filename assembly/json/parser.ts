import { decimal } from "../decimal";
import { shrinkNew } from "../runtime/memory";
import { lineOf, staticUtf8 } from "../runtime/strings";
import { JsonKind, JsonValue } from "./value";

/** Outcome of `parseJson`: `ok` with the document in `value`, or the reason in `error`. */
export class JsonResult {
  constructor(
    /** The document; JSON null when parsing failed. */
    readonly value: JsonValue,
    /** What went wrong and where, e.g. "expected ':' at 12"; empty when parsing succeeded. */
    readonly error: string
  ) {}

  get ok(): bool {
    return this.error.length == 0;
  }
}

/**
 * Parses `text` (e.g. `configuration.toString()`) as one strict RFC 8259 JSON document.
 *
 * Offsets in errors count UTF-16 code units (bytes, for ASCII input). Containers
 * nested deeper than `maxDepth` are rejected; parsing is iterative, so hostile
 * nesting costs heap, not wasm stack. Lone surrogates written as \u escapes are
 * kept as-is, as JavaScript's JSON.parse does.
 */
export function parseJson(text: string, maxDepth: i32 = 64): JsonResult {
  let value = parseDocument(text, maxDepth);
  return value ? new JsonResult(value, "") : new JsonResult(JsonValue.newNull(), error);
}

/**
 * parseJson without its result object (the typed configuration's reader uses it): null after an error, see
 * `parseError`. Inlined: a plugin uses one of the two, and a call between them costs bytes in every plugin.
 */
// @ts-ignore: decorator
@inline export function parseDocument(text: string, maxDepth: i32): JsonValue | null {
  source = text;
  base = pos = changetype<usize>(text);
  end = base + (<usize>text.length << 1);
  let value = document(maxDepth);
  source = token = "";
  return value;
}

/** Why the last `parseDocument` returned null. */
export function parseError(): string {
  return error;
}

/** True if `text` starts, after whitespace, with '{' or '[': it is meant to be JSON. */
export function isJsonLike(text: string): bool {
  for (let i = 0, n = text.length; i < n; ++i) {
    let c = text.charCodeAt(i);
    if (!isSpace(c)) return c == Char.OpenBrace || c == Char.OpenBracket;
  }
  return false;
}

const enum Char {
  Tab = 0x09,
  LineFeed = 0x0A,
  Return = 0x0D,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2B,
  Comma = 0x2C,
  Minus = 0x2D,
  Dot = 0x2E,
  Slash = 0x2F,
  Zero = 0x30,
  Colon = 0x3A,
  OpenBracket = 0x5B,
  Backslash = 0x5C,
  CloseBracket = 0x5D,
  LowerB = 0x62,
  LowerE = 0x65,
  LowerF = 0x66,
  LowerN = 0x6E,
  LowerR = 0x72,
  LowerT = 0x74,
  LowerU = 0x75,
  OpenBrace = 0x7B,
  CloseBrace = 0x7D
}

// The parser reads code units straight from memory and never re-enters, so its
// cursor lives in globals. `source` keeps the text alive for the GC meanwhile.
let source = "";
/** Addresses: first code unit, next code unit, one past the last (2 bytes each). */
let base: usize = 0;
let pos: usize = 0;
let end: usize = 0;
let error = "";
/** The last string `readString` read. */
let token = "";

/** An array or object still being read, linked to its parent. */
class Frame {
  /** The object member being read: its name. */
  name: string = "";
  constructor(readonly container: JsonValue, readonly parent: Frame | null) {}

  get isObject(): bool {
    return this.container.kind == JsonKind.Object;
  }

  /** Adds `value` under the name just read, or unnamed to an array (whose frame's name stays ""). */
  add(value: JsonValue): void {
    // @ts-ignore: JsonValue's own append without the kind check, kept private from filter code
    this.container.add(this.name, value);
  }
}

function document(maxDepth: i32): JsonValue | null {
  let open: Frame | null = null;
  let depth = 0;
  while (true) {
    // Read a scalar, or open a container and go read its first member.
    skipSpace();
    let c = codeAt(pos);
    let value: JsonValue | null;
    if (c == Char.OpenBracket || c == Char.OpenBrace) {
      if (depth >= maxDepth) return fail(Problem.NestingTooDeep);
      let isObject = c == Char.OpenBrace;
      let container = isObject ? JsonValue.newObject() : JsonValue.newArray();
      pos += 2;
      skipSpace();
      if (codeAt(pos) != closer(isObject)) {
        open = new Frame(container, open);
        depth++;
        if (isObject && !memberName(open)) return null;
        continue;
      }
      pos += 2;
      value = container;
    } else {
      value = scalar(c);
      if (!value) return null;
    }
    // Attach the value; each closing bracket that follows completes a parent too.
    while (true) {
      if (!open) {
        skipSpace();
        return pos < end ? fail(Problem.TrailingCharacters) : value;
      }
      let isObject = open.isObject;
      open.add(value);
      skipSpace();
      let c = codeAt(pos);
      if (c == Char.Comma) {
        pos += 2;
        if (isObject && !memberName(open)) return null;
        break;
      }
      if (c != closer(isObject)) return fail(isObject ? Problem.ExpectedCommaOrBrace : Problem.ExpectedCommaOrBracket);
      pos += 2;
      value = open.container;
      open = open.parent;
      depth--;
    }
  }
}

// The literals' first four code units, as one little-endian load reads them: "true", "fals"(e), "null".
const TRUE: u64 = 0x0065_0075_0072_0074;
const FALS: u64 = 0x0073_006C_0061_0066;
const NULL: u64 = 0x006C_006C_0075_006E;

function scalar(c: i32): JsonValue | null {
  if (c == Char.Quote) {
    return readString() ? JsonValue.newString(token) : null;
  }
  if (c == Char.Minus || isDigit(c)) return readNumber();
  let word = c == Char.LowerT ? TRUE : c == Char.LowerF ? FALS : c == Char.LowerN ? NULL : 0;
  if (!word) return fail(c < 0 ? Problem.UnexpectedEnd : Problem.UnexpectedCharacter);
  let size: usize = c == Char.LowerF ? 10 : 8;
  if (pos + size > end || load<u64>(pos) != word || (c == Char.LowerF && load<u16>(pos, 8) != Char.LowerE)) {
    return fail(Problem.InvalidLiteral);
  }
  pos += size;
  return c == Char.LowerN ? JsonValue.newNull() : JsonValue.newBool(c == Char.LowerT);
}

/** Reads `"name":` into `frame.name`. */
function memberName(frame: Frame): bool {
  skipSpace();
  if (codeAt(pos) != Char.Quote) {
    fail(Problem.ExpectedString);
    return false;
  }
  if (!readString()) return false;
  skipSpace();
  if (codeAt(pos) != Char.Colon) {
    fail(Problem.ExpectedColon);
    return false;
  }
  pos += 2;
  frame.name = token;
  return true;
}

/** Reads a string token from its opening quote into `token`; false on error. */
function readString(): bool {
  let start = pos += 2;
  let escaped = false;
  while (pos < end) {
    let c = <i32>load<u16>(pos);
    if (c == Char.Quote) break;
    if (c == Char.Backslash) {
      let e = codeAt(pos + 2);
      let unicode = e == Char.LowerU;
      if (unicode ? hex4(pos + 4) < 0 : unescape(e) < 0) break;
      pos += unicode ? 12 : 4;
      escaped = true;
    } else if (c >= Char.Space) {
      pos += 2;
    } else {
      break;
    }
  }
  let c = codeAt(pos);
  if (c != Char.Quote) {
    fail(c < 0 ? Problem.UnterminatedString : c == Char.Backslash ? Problem.InvalidEscape : Problem.ControlCharacter);
    return false;
  }
  let stop = pos;
  pos += 2;
  token = escaped ? decode(start, stop) : copy(start, stop);
  return true;
}

function readNumber(): JsonValue | null {
  let start = pos;
  if (codeAt(pos) == Char.Minus) pos += 2;
  if (codeAt(pos) == Char.Zero) {
    if (isDigit(codeAt(pos + 2))) return fail(Problem.LeadingZero);
    pos += 2;
  } else if (!digits()) {
    return null;
  }
  if (codeAt(pos) == Char.Dot) {
    pos += 2;
    if (!digits()) return null;
  }
  if ((codeAt(pos) | 0x20) == Char.LowerE) { // 'e' or 'E'
    pos += 2;
    let c = codeAt(pos);
    if (c == Char.Plus || c == Char.Minus) pos += 2;
    if (!digits()) return null;
  }
  return JsonValue.newNumber(copy(start, pos));
}

/** Skips a run of digits; fails if there was none. */
function digits(): bool {
  let start = pos;
  while (pos < end && isDigit(<i32>load<u16>(pos))) pos += 2;
  if (pos > start) return true;
  fail(Problem.ExpectedDigit);
  return false;
}

/** What `fail` reports; each is a line of MESSAGES, in this order. */
const enum Problem {
  NestingTooDeep,
  TrailingCharacters,
  ExpectedCommaOrBrace,
  ExpectedCommaOrBracket,
  UnexpectedEnd,
  UnexpectedCharacter,
  InvalidLiteral,
  ExpectedString,
  ExpectedColon,
  UnterminatedString,
  InvalidEscape,
  ControlCharacter,
  LeadingZero,
  ExpectedDigit
}

// One text rather than one literal per message, and UTF-8 (see staticUtf8): every literal costs a header and
// a data segment. Lazy: module-level data otherwise lands in every plugin that imports the SDK, whether it
// parses JSON or not.
// @ts-ignore: decorator
@lazy const MESSAGES = staticUtf8(`nesting too deep
trailing characters
expected ',' or '}'
expected ',' or ']'
unexpected end
unexpected character
invalid literal
expected string
expected ':'
unterminated string
invalid escape
control character
leading zero
expected digit
`);

/** Records the error at the cursor; returns null so callers can `return fail(...)`. */
function fail(problem: Problem): JsonValue | null {
  error = lineOf(MESSAGES, problem) + " at " + decimal(<u32>((pos - base) >> 1));
  return null;
}

/** The code unit at address `at`, or -1 past the end. A call, not inlined: the loops over a token's
 * characters check the end themselves, and every other use is one call in place of a copy. */
function codeAt(at: usize): i32 {
  return at < end ? <i32>load<u16>(at) : -1;
}

function skipSpace(): void {
  while (pos < end && isSpace(<i32>load<u16>(pos))) pos += 2;
}

// @ts-ignore: decorator
@inline function isSpace(c: i32): bool {
  return c == Char.Space || c == Char.LineFeed || c == Char.Return || c == Char.Tab;
}

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool {
  return <u32>(c - Char.Zero) < 10;
}

/** The code unit a one-letter escape stands for, or -1. */
function unescape(c: i32): i32 {
  if (c == Char.Quote || c == Char.Backslash || c == Char.Slash) return c;
  if (c == Char.LowerB) return 0x08;
  if (c == Char.LowerF) return 0x0C;
  if (c == Char.LowerN) return 0x0A;
  if (c == Char.LowerR) return 0x0D;
  return c == Char.LowerT ? 0x09 : -1;
}

/** The value of the four hex digits at address `at`, or -1. */
function hex4(at: usize): i32 {
  let value = 0;
  for (let stop = at + 8; at < stop; at += 2) {
    let c = codeAt(at);
    let lower = c | 0x20;
    let digit = isDigit(c) ? c - Char.Zero : <u32>(lower - 0x61) < 6 ? lower - 0x57 : -1;
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

/** A new string holding the code units in [from, to). */
function copy(from: usize, to: usize): string {
  let out = __new(to - from, idof<String>());
  memory.copy(out, from, to - from);
  return changetype<string>(out);
}

/** Decodes the validated string body [from, to); escapes only ever shrink it. */
function decode(from: usize, to: usize): string {
  let out = __new(to - from, idof<String>());
  let at = out;
  while (from < to) {
    let c = <i32>load<u16>(from);
    from += 2;
    if (c == Char.Backslash) {
      let e = <i32>load<u16>(from);
      from += 2;
      if (e == Char.LowerU) {
        c = hex4(from);
        from += 8;
      } else {
        c = unescape(e);
      }
    }
    store<u16>(at, c);
    at += 2;
  }
  return changetype<string>(shrinkNew(out, at - out));
}

/** The bracket that closes an object or an array. */
// @ts-ignore: decorator
@inline function closer(isObject: bool): i32 {
  return isObject ? Char.CloseBrace : Char.CloseBracket;
}
