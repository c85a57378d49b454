// Strict UTF-8 decoding. AssemblyScript's String.UTF8.decode is lenient: it decodes overlong forms
// ("c0 b1" as "1") and drops stray bytes, so a filter would see different text than the upstream
// gets (an authorizer reading "13" from "31 33 ff"). Here every ill-formed sequence becomes one
// U+FFFD per maximal subpart, as the WHATWG decoder (and JavaScript's TextDecoder) does.

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
  let units: usize = 0;
  let at = start;
  while (at < end) {
    const first = <u32>load<u8>(at++);
    if (first < 0x80) {
      store<u16>(out + (units++ << 1), <u16>first);
      continue;
    }
    let needed = 0;
    let codePoint: u32 = 0;
    let lower: u32 = 0x80;
    let upper: u32 = 0xbf;
    if (first >= 0xc2 && first <= 0xdf) {
      needed = 1;
      codePoint = first & 0x1f;
    } else if (first >= 0xe0 && first <= 0xef) {
      needed = 2;
      codePoint = first & 0x0f;
      if (first == 0xe0) lower = 0xa0; // overlong
      if (first == 0xed) upper = 0x9f; // surrogates
    } else if (first >= 0xf0 && first <= 0xf4) {
      needed = 3;
      codePoint = first & 0x07;
      if (first == 0xf0) lower = 0x90; // overlong
      if (first == 0xf4) upper = 0x8f; // beyond U+10FFFF
    } else {
      store<u16>(out + (units++ << 1), REPLACEMENT);
      continue;
    }
    let complete = true;
    for (let i = 0; i < needed; i++) {
      if (at >= end) {
        complete = false;
        break;
      }
      const next = <u32>load<u8>(at);
      if (next < lower || next > upper) {
        complete = false; // the offending byte starts the next sequence
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      codePoint = (codePoint << 6) | (next & 0x3f);
      at++;
    }
    if (!complete) {
      store<u16>(out + (units++ << 1), REPLACEMENT);
    } else if (codePoint >= 0x10000) {
      codePoint -= 0x10000;
      store<u16>(out + (units++ << 1), <u16>(0xd800 | (codePoint >> 10)));
      store<u16>(out + (units++ << 1), <u16>(0xdc00 | (codePoint & 0x3ff)));
    } else {
      store<u16>(out + (units++ << 1), <u16>codePoint);
    }
  }
  return changetype<string>(__renew(out, units << 1));
}

/** The UTF-8 bytes of `text`; a lone surrogate becomes U+FFFD, as TextEncoder encodes it. */
export function encodeUtf8(text: string): ArrayBuffer {
  let at = changetype<usize>(text);
  const end = at + (<usize>text.length << 1);
  // At most 3 bytes per UTF-16 unit: a surrogate pair (2 units) takes 4.
  const out = changetype<usize>(__new(<usize>text.length * 3, idof<ArrayBuffer>()));
  let size: usize = 0;
  while (at < end) {
    let unit = <u32>load<u16>(at);
    at += 2;
    if (unit < 0x80) {
      store<u8>(out + size++, <u8>unit);
      continue;
    }
    if (unit < 0x800) {
      store<u16>(out + size, <u16>((0xc0 | (unit >> 6)) | ((0x80 | (unit & 0x3f)) << 8)));
      size += 2;
      continue;
    }
    if ((unit & 0xfc00) == 0xd800 && at < end && (<u32>load<u16>(at) & 0xfc00) == 0xdc00) {
      const codePoint = 0x10000 + ((unit & 0x3ff) << 10) + (<u32>load<u16>(at) & 0x3ff);
      at += 2;
      store<u32>(out + size,
        (0xf0 | (codePoint >> 18)) | ((0x80 | ((codePoint >> 12) & 0x3f)) << 8) |
        ((0x80 | ((codePoint >> 6) & 0x3f)) << 16) | ((0x80 | (codePoint & 0x3f)) << 24));
      size += 4;
      continue;
    }
    if ((unit & 0xf800) == 0xd800) unit = REPLACEMENT;
    store<u8>(out + size, <u8>(0xe0 | (unit >> 12)));
    store<u16>(out + size + 1, <u16>((0x80 | ((unit >> 6) & 0x3f)) | ((0x80 | (unit & 0x3f)) << 8)));
    size += 3;
  }
  return changetype<ArrayBuffer>(__renew(out, size));
}
