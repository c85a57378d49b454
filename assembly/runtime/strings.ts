// String operations the SDK needs often but briefly: std's versions are built for long strings and
// cost every plugin more code than they save time on names and ids.
import { decodeUtf8At } from "../utf8";

/** `a == b`: std's `==` compares word by word in 190 bytes of code; names are short. */
export function sameString(a: string, b: string): bool {
  const size = <usize>a.length << 1;
  if (size != <usize>b.length << 1) return false;
  const left = changetype<usize>(a);
  const right = changetype<usize>(b);
  for (let offset: usize = 0; offset < size; offset += 2) {
    if (load<u16>(left + offset) != load<u16>(right + offset)) return false;
  }
  return true;
}

/**
 * `text`'s UTF-8 bytes in static memory, for messages only error paths need: the preset's transform replaces
 * each call (its argument must be a string literal) with the bytes themselves (transform/static-text.ts), one
 * byte per ASCII character where a string literal takes two, and no header. Without the transform (the SDK's
 * unit tests), encoded here once per call.
 */
export function staticUtf8(text: string): usize {
  return __pin(changetype<usize>(String.UTF8.encode(text)));
}

/** Line `index` (from 0) of `lines`, UTF-8 text from `staticUtf8` where every line ends with "\n". */
export function lineOf(lines: usize, index: i32): string {
  while (index) if (load<u8>(lines++) == 0x0A) index--;
  let end = lines;
  while (load<u8>(end) != 0x0A) end++;
  return decodeUtf8At(lines, end - lines);
}
