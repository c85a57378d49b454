// UTF-8 for the short, mostly ASCII strings hostcalls move (header names and values, log lines,
// details): plain loops where TextEncoder/TextDecoder would cost more in the call than the work.
// Results are exactly what TextEncoder/TextDecoder give (lone surrogates and invalid bytes
// become U+FFFD), which is what they fall back to for anything that is not ASCII.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Longest input decoded by a loop: beyond it TextDecoder's fixed call cost is the cheaper one. */
const SHORT_DECODE = 8;

export const EMPTY_BYTES = new Uint8Array(0);

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** The UTF-8 bytes of `s`, always a new array. */
export function encodeText(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

/** The bytes as UTF-8 text (invalid sequences read as U+FFFD). */
export function decodeText(bytes: Uint8Array): string {
  if (bytes.length > SHORT_DECODE) return decoder.decode(bytes);
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) return decoder.decode(bytes);
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** Writes the UTF-8 bytes of `s` at `pos` (with room for 3 bytes per character); returns the end. */
export function writeText(out: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return pos + encoder.encodeInto(s, out.subarray(pos)).written;
    out[pos + i] = c;
  }
  return pos + s.length;
}

/** The byte length of `s` in UTF-8. */
export function utf8Length(s: string): number {
  return isAscii(s) ? s.length : encoder.encode(s).length;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether the UTF-8 encoding of `text` is exactly `bytes`. */
export function textMatchesBytes(text: string, bytes: Uint8Array): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return sameBytes(encoder.encode(text), bytes);
    if (i >= bytes.length || bytes[i] !== c) return false;
  }
  return bytes.length === text.length;
}

/**
 * Whether two strings have the same UTF-8 bytes. Different strings can (lone surrogates become
 * U+FFFD), but only of the same length and with characters beyond ASCII.
 */
export function sameText(a: string, b: string): boolean {
  if (a === b) return true;
  return a.length === b.length && !isAscii(a) && !isAscii(b) && sameBytes(encoder.encode(a), encoder.encode(b));
}
