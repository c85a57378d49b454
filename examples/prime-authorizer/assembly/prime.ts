// Deterministic Miller–Rabin: these bases decide primality for every n < 2^64.
const BASES: StaticArray<u64> = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/** True if `n` is prime. Exact for all of u64, in microseconds. */
export function isPrime(n: u64): bool {
  for (let i = 0, k = BASES.length; i < k; ++i) {
    let p = unchecked(BASES[i]);
    if (n == p) return true;
    if (n % p == 0) return false;
  }
  if (n < 41 * 41) return n > 1; // no factor up to 37, so prime unless 0 or 1
  // n is odd from here on, so Montgomery arithmetic modulo n applies.
  let m = new Montgomery(n);
  let s = ctz(n - 1);
  let d = (n - 1) >> s;
  let one = m.one;
  let minusOne = n - one;
  for (let i = 0, k = BASES.length; i < k; ++i) {
    let x = m.pow(m.from(unchecked(BASES[i])), d);
    if (x == one || x == minusOne) continue;
    let witness = true;
    for (let r: u64 = 1; r < s; ++r) {
      x = m.mul(x, x);
      if (x == minusOne) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}

/**
 * Arithmetic modulo an odd n in Montgomery form (x stands for x·2^64 mod n),
 * which needs only 64×64→128 products, never a 128-bit division.
 */
class Montgomery {
  /** n⁻¹ mod 2^64. */
  private inverse: u64;
  /** 2^64 mod n: the form of 1. */
  readonly one: u64;
  /** 2^128 mod n: multiplying by it converts into the form. */
  private r2: u64;

  constructor(private n: u64) {
    // Newton's iteration doubles the correct low bits each step: 3 → 96.
    let inverse = n;
    for (let i = 0; i < 5; ++i) inverse *= 2 - n * inverse;
    this.inverse = inverse;
    let one = (0 - n) % n;
    this.one = one;
    let r2 = one;
    for (let i = 0; i < 64; ++i) r2 = addMod(r2, r2, n);
    this.r2 = r2;
  }

  from(x: u64): u64 {
    return this.mul(x % this.n, this.r2);
  }

  /** a·b·2^-64 mod n, for a, b < n. */
  // Inlined, with mulHigh: Miller–Rabin is a loop of these, and a call per multiplication costs a third of the time.
  @inline mul(a: u64, b: u64): u64 {
    let n = this.n;
    let high = mulHigh(a, b);
    // m·n matches a·b in the low 64 bits, so a·b - m·n is a multiple of 2^64.
    let m = a * b * this.inverse;
    let mnHigh = mulHigh(m, n);
    let r = high - mnHigh;
    return high < mnHigh ? r + n : r;
  }

  pow(x: u64, e: u64): u64 {
    let result = this.one;
    while (e) {
      if (e & 1) result = this.mul(result, x);
      x = this.mul(x, x);
      e >>= 1;
    }
    return result;
  }
}

/** (a + b) mod n for a, b < n, without losing the carry. */
// @ts-ignore: decorator (asc inlines it; TypeScript has no decorators on functions)
@inline function addMod(a: u64, b: u64, n: u64): u64 {
  let sum = a + b;
  return sum < a || sum >= n ? sum - n : sum;
}

/** The high 64 bits of the 128-bit product a·b, from 32-bit halves. */
// @ts-ignore: decorator
@inline function mulHigh(a: u64, b: u64): u64 {
  let aLow = a & 0xFFFFFFFF;
  let aHigh = a >> 32;
  let bLow = b & 0xFFFFFFFF;
  let bHigh = b >> 32;
  let lowHigh = aLow * bHigh;
  let highLow = aHigh * bLow;
  let middle = ((aLow * bLow) >> 32) + (lowHigh & 0xFFFFFFFF) + (highLow & 0xFFFFFFFF);
  return aHigh * bHigh + (lowHigh >> 32) + (highLow >> 32) + (middle >> 32);
}
