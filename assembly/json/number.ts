// std's parseFloat (0.27) loses a factor of up to 1e15 on some 17-digit
// inputs with exponents 23..37, so JSON numbers are converted here instead.

/**
 * The f64 nearest to a number the parser has already validated. Correctly
 * rounded when the digits, read as an integer, are at most 2^53 and the decimal
 * exponent is within ±22 (every integer up to 2^53 and everyday decimals such
 * as 0.25 or 1.5e3); otherwise within an ulp, two at worst.
 */
export function toF64(text: string): f64 {
  let n = text.length;
  let negative = text.charCodeAt(0) == 0x2D; // '-'
  let i = <i32>negative;
  let significand: u64 = 0;
  let exponent = 0; // value = significand * 10^exponent
  let fraction = false;
  for (; i < n; ++i) {
    let c = text.charCodeAt(i);
    if (c == 0x2E) { // '.'
      fraction = true;
      continue;
    }
    let digit = c - 0x30;
    if (<u32>digit > 9) break; // 'e' or 'E'
    // Keep up to 19 digits; later ones only scale (integer part) or are dropped.
    if (significand < 1_000_000_000_000_000_000) {
      significand = significand * 10 + digit;
      if (fraction) exponent--;
    } else if (!fraction) {
      exponent++;
    }
  }
  if (i < n) {
    let c = text.charCodeAt(++i);
    let negativeExponent = c == 0x2D;
    if (c == 0x2D || c == 0x2B) ++i; // '-' or '+'
    let e = 0;
    for (; i < n; ++i) {
      if (e < 100_000_000) e = e * 10 + text.charCodeAt(i) - 0x30; // saturates far past f64 range
    }
    exponent += negativeExponent ? -e : e;
  }
  if (!significand || exponent < -400) return negative ? -0.0 : 0.0; // below 1e-381: underflows
  if (exponent > 330) return negative ? -Infinity : Infinity;
  let value = <f64>significand;
  if (significand <= MAX_EXACT && exponent >= -22 && exponent <= 22) {
    // Clinger's fast path: both operands are exact, so the one rounding is correct.
    value = exponent < 0 ? value / exactPow10(-exponent) : value * exactPow10(exponent);
  } else if (significand > MAX_EXACT && exponent > 22 && exponent <= 37) {
    value = value * 1e22 * exactPow10(exponent - 22); // the range std gets wrong
  } else {
    return parseFloat(text); // std's scaled 64-bit path: exact or within an ulp here
  }
  return negative ? -value : value;
}

/** 2^53 - 1: larger integers lose bits in an f64. */
const MAX_EXACT: u64 = 9007199254740991;

/** 10^k for 0 <= k <= 22, all exactly representable, so the loop never rounds. */
function exactPow10(k: i32): f64 {
  let result = 1.0;
  while (k--) result *= 10;
  return result;
}
