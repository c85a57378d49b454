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
