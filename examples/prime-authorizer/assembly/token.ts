import { isPrime } from "./prime";

/**
 * Whether `token` is a prime written as a plain decimal u64: ASCII digits only (leading zeros
 * allowed), no sign, spaces or prefixes. Stops at the first bad character or at overflow, so
 * hostile input of any length costs at most one pass.
 */
export function isPrimeToken(token: string): bool {
  let n = token.length;
  if (!n) return false;
  let value: u64 = 0;
  for (let i = 0; i < n; ++i) {
    let digit = <u32>token.charCodeAt(i) - 0x30; // '0'
    if (digit > 9 || value > (u64.MAX_VALUE - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return isPrime(value);
}
