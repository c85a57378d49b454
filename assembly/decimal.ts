/**
 * The decimal digits of `value`. The SDK's messages use this rather than u32.toString(), whose
 * radix support and digit tables would cost every plugin about 400 bytes.
 */
export function decimal(value: u32): string {
  let digits = "";
  do {
    digits = String.fromCharCode(0x30 + value % 10) + digits;
    value /= 10;
  } while (value);
  return digits;
}

/**
 * The plain decimal u64 in the `length` bytes at `start`: ASCII digits only (leading zeros allowed), no
 * sign, spaces or prefixes; `otherwise` when empty, anything else or past u64. Stops at the first bad
 * byte or at overflow, so input of any length costs at most one pass. Inlined into its one caller
 * (HeaderMap.getSingleU64), which the optimiser would otherwise leave calling it.
 */
// @ts-ignore: decorator
@inline export function parseDecimalU64At(start: usize, length: usize, otherwise: u64): u64 {
  if (!length) return otherwise;
  let value: u64 = 0;
  let at = start;
  // 19 digits stay below u64.MAX_VALUE, which has 20: only the digits after them need the overflow check.
  for (const safe = start + min(length, 19); at < safe; at++) {
    const digit = <u32>load<u8>(at) - 0x30; // '0'
    if (digit > 9) return otherwise;
    value = value * 10 + digit;
  }
  for (const end = start + length; at < end; at++) {
    const digit = <u32>load<u8>(at) - 0x30;
    // value·10 + digit > u64.MAX_VALUE (…161·10 + 5), without a 64-bit division per digit.
    if (digit > 9 || (value >= 1844674407370955161 && (value > 1844674407370955161 || digit > 5))) return otherwise;
    value = value * 10 + digit;
  }
  return value;
}
