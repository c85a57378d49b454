import { shrinkNew } from "../runtime/memory";
import { JsonKind, JsonValue, Member } from "./value";

// The output grows in a string that a global keeps visible to the GC while
// `__renew` moves it; `size` counts the bytes written so far.
let buffer = "";
let size: usize = 0;

/**
 * `root` as compact JSON text (the body of `JsonValue.toString`). Iterative,
 * so deep nesting costs heap, not wasm stack. Strings escape `"`, `\` and
 * control characters, and lone surrogates as \uXXXX (as JSON.stringify does),
 * so the text encodes to valid UTF-8; everything else is written as is.
 */
export function writeJson(root: JsonValue): string {
  buffer = changetype<string>(__new(64, idof<String>()));
  size = 0;
  let open: Open | null = null;
  let value = root;
  while (true) {
    let kind = value.kind;
    if (kind == JsonKind.String) {
      writeString(value.asString());
    } else if (kind == JsonKind.Number) {
      writeText(value.numberText());
    } else if (kind == JsonKind.Bool) {
      writeText(value.asBool() ? "true" : "false");
    } else if (kind == JsonKind.Null) {
      writeText("null");
    } else {
      put(kind == JsonKind.Object ? 0x7B : 0x5B); // '{' or '['
      open = new Open(value, open);
    }
    // Move on to the next member, closing each container that is complete.
    while (true) {
      if (!open) return finish();
      let isObject = open.container.kind == JsonKind.Object;
      let member = open.next;
      if (member) {
        if (member != firstOf(open.container)) put(0x2C); // ','
        if (isObject) {
          writeString(member.name);
          put(0x3A); // ':'
        }
        open.next = member.next;
        value = member.value;
        break;
      }
      put(isObject ? 0x7D : 0x5D); // '}' or ']'
      open = open.parent;
    }
  }
}

/** A container being written, and its member to write next. */
class Open {
  next: Member | null;
  constructor(readonly container: JsonValue, readonly parent: Open | null) {
    this.next = firstOf(container);
  }
}

// @ts-ignore: decorator
@inline function firstOf(container: JsonValue): Member | null {
  // @ts-ignore: the chain is JsonValue's own, kept private from filter code
  return container.first;
}

function finish(): string {
  let out = changetype<string>(shrinkNew(changetype<usize>(buffer), size));
  buffer = "";
  return out;
}

/** Makes room for `count` more code units. */
function reserve(count: i32): void {
  let capacity = <usize>buffer.length << 1;
  let needed = size + (<usize>count << 1);
  if (needed > capacity) {
    buffer = changetype<string>(__renew(changetype<usize>(buffer), max(needed, capacity << 1)));
  }
}

function put(c: i32): void {
  reserve(1);
  store<u16>(changetype<usize>(buffer) + size, c);
  size += 2;
}

function writeText(text: string): void {
  let bytes = <usize>text.length << 1;
  reserve(text.length);
  memory.copy(changetype<usize>(buffer) + size, changetype<usize>(text), bytes);
  size += bytes;
}

function writeString(text: string): void {
  put(0x22); // '"'
  for (let i = 0, n = text.length; i < n; ++i) {
    let c = text.charCodeAt(i);
    if (c == 0x22 || c == 0x5C) { // '"' or '\'
      put(0x5C);
      put(c);
    } else if (c < 0x20) {
      // \b \t \n \f \r have short forms (11 has none); other controls need \u00XX.
      let short = c >= 8 && c <= 13 && c != 11 ? "btn_fr".charCodeAt(c - 8) : 0;
      put(0x5C);
      if (short) put(short);
      else writeUnicodeEscape(c);
    } else if ((c & 0xF800) == 0xD800) {
      // A surrogate: a high one followed by a low one is a character, any other is lone.
      let low = text.charCodeAt(i + 1);
      if (c < 0xDC00 && (low & 0xFC00) == 0xDC00) {
        put(c);
        put(low);
        ++i;
      } else {
        put(0x5C);
        writeUnicodeEscape(c);
      }
    } else {
      put(c);
    }
  }
  put(0x22);
}

/** `uXXXX` in lowercase hex, as JSON.stringify writes it. */
function writeUnicodeEscape(c: i32): void {
  put(0x75); // 'u'
  for (let shift = 12; shift >= 0; shift -= 4) {
    let digit = (c >> shift) & 0xF;
    put(digit < 10 ? 0x30 + digit : 0x57 + digit);
  }
}
