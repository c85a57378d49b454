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
 * byte or at overflow, so input of any length costs at most one pass.
 */
export function parseDecimalU64At(start: usize, length: usize, otherwise: u64): u64 {
  if (!length) return otherwise;
  let value: u64 = 0;
  for (let at = start, end = start + length; at < end; at++) {
    const digit = <u32>load<u8>(at) - 0x30; // '0'
    // value·10 + digit > u64.MAX_VALUE (…161·10 + 5), without a 64-bit division per digit.
    if (digit > 9 || (value >= 1844674407370955161 && (value > 1844674407370955161 || digit > 5))) return otherwise;
    value = value * 10 + digit;
  }
  return value;
}
