/** Outcome of `parseDecimalU64`: `value` is meaningful only when `ok`. */
export class U64Result {
  constructor(readonly value: u64, readonly ok: bool) {}
}

/**
 * Parses a plain decimal u64: ASCII digits only (leading zeros allowed), no
 * sign, spaces or prefixes. Stops at the first bad character or at overflow,
 * so hostile input of any length costs at most one pass.
 */
export function parseDecimalU64(text: string): U64Result {
  let n = text.length;
  if (!n) return new U64Result(0, false);
  let value: u64 = 0;
  for (let i = 0; i < n; ++i) {
    let digit = <u32>text.charCodeAt(i) - 0x30; // '0'
    if (digit > 9 || value > (u64.MAX_VALUE - digit) / 10) return new U64Result(0, false);
    value = value * 10 + digit;
  }
  return new U64Result(value, true);
}
