// Strict UTF-8 decoding. AssemblyScript's String.UTF8.decode is lenient: it decodes overlong forms
// ("c0 b1" as "1") and drops stray bytes, so a filter would see different text than the upstream
// gets (an authorizer reading "13" from "31 33 ff"). Here every ill-formed sequence becomes one
// U+FFFD per maximal subpart, as the WHATWG decoder (and JavaScript's TextDecoder) does.

import { shrinkNew } from "./runtime/memory";

const REPLACEMENT: u16 = 0xfffd;

/** The UTF-8 text of `bytes`, with U+FFFD for anything ill-formed. */
export function decodeUtf8(bytes: ArrayBuffer): string {
  return decodeUtf8At(changetype<usize>(bytes), <usize>bytes.byteLength);
}

/** The same for `length` bytes at `start`, e.g. a value inside a pairs buffer, without copying them out first. */
export function decodeUtf8At(start: usize, length: usize): string {
  const end = start + length;
  // Never more UTF-16 units than bytes: a 4-byte sequence gives 2 units, a bad byte 1.
  const out = changetype<usize>(__new(length << 1, idof<String>()));
  let dst = out;
  let at = start;
  while (at < end) {
    const first = <u32>load<u8>(at++);
    let unit = first;
    if (first >= 0x80) {
      unit = REPLACEMENT;
      // C2-DF, E0-EF and F0-F4 lead 1, 2 or 3 continuation bytes; 80-C1 and F5-FF never start a sequence.
      if (first - 0xc2 <= 0xf4 - 0xc2) {
        let needed = clz(~first << 24) - 1; // the lead byte's 1 bits after the first
        let codePoint = first & (0x3f >> needed);
        // Shortest form: 3 bytes start at U+0800, 4 at U+10000 (C0 and C1 already ruled out 2-byte overlongs).
        const shortest: u32 = 2 << (5 * needed);
        while (at < end) {
          const next = <u32>load<u8>(at);
          if (next >> 6 != 0b10) break; // not a continuation byte: it starts the next sequence
          codePoint = (codePoint << 6) | (next & 0x3f);
          // If the least code point these bytes can still reach is overlong, a surrogate or past U+10FFFF,
          // this byte (only ever the second) is out of range and starts the next sequence.
          const least = codePoint << (6 * --needed);
          if (least < shortest || least >> 11 == 0x1b || least > 0x10ffff) break;
          at++;
          if (!needed) {
            unit = codePoint;
            break;
          }
        }
      }
    }
    if (unit >= 0x10000) {
      store<u16>(dst, 0xd7c0 + (unit >> 10)); // 0xd800 | (unit - 0x10000) >> 10
      dst += 2;
      unit = 0xdc00 | (unit & 0x3ff);
    }
    store<u16>(dst, unit);
    dst += 2;
  }
  return changetype<string>(shrinkNew(out, dst - out));
}

/** The UTF-8 bytes of `text`; a lone surrogate becomes U+FFFD, as TextEncoder encodes it. */
export function encodeUtf8(text: string): ArrayBuffer {
  let at = changetype<usize>(text);
  const end = at + <usize>String.UTF16.byteLength(text);
  // At most 3 bytes per UTF-16 unit: a surrogate pair (2 units) takes 4.
  const out = changetype<usize>(__new(<usize>text.length * 3, idof<ArrayBuffer>()));
  let dst = out;
  while (at < end) {
    let codePoint = <u32>load<u16>(at);
    at += 2;
    if (codePoint < 0x80) {
      // Bumping dst before the store lets V8 keep this hot loop free of register copies.
      dst++;
      store<u8>(dst - 1, codePoint);
      continue;
    }
    // Longer sequences put out their leading bytes here; the last two go out together below.
    if (codePoint >= 0x800) {
      let lead: u32 = 0xe0;
      if (codePoint >> 11 == 0x1b) { // D800-DFFF
        // Only a high surrogate (D800-DBFF) followed by a low one (DC00-DFFF) makes a pair.
        const low = codePoint < 0xdc00 && at < end ? <u32>load<u16>(at) : 0;
        if (low >> 10 == 0x37) {
          codePoint = (codePoint << 10) + low - 0x35fdc00; // (0xd800 << 10) + 0xdc00 - 0x10000
          at += 2;
          store<u8>(dst, 0xf0 | (codePoint >> 18));
          dst++;
          lead = 0x80;
        } else {
          codePoint = REPLACEMENT;
        }
      }
      store<u8>(dst, lead | ((codePoint >> 12) & 0x3f));
      dst++;
      // With bit 12 set, the xor below turns 110xxxxx into 10xxxxxx: the last 12 bits as two continuation bytes.
      codePoint = 0x1000 | (codePoint & 0xfff);
    }
    // 110xxxxx 10xxxxxx, lead byte first (the store is little-endian).
    store<u16>(dst, (0x80c0 ^ (codePoint >> 6)) | ((codePoint & 0x3f) << 8));
    dst += 2;
  }
  return changetype<ArrayBuffer>(shrinkNew(out, dst - out));
}
