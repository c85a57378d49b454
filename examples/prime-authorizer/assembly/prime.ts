// Deterministic Miller–Rabin: these bases decide primality for every n < 2^64.
const BASES: StaticArray<u64> = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
const BASE_COUNT = 12;

/**
 * BASES[i], read in place: asc's array accessors (and `length`) are calls that the preset, which optimises for
 * size, keeps out of line, and every request runs the loop below.
 */
// @ts-ignore: decorator
@inline function base(i: i32): u64 {
  return load<u64>(changetype<usize>(BASES) + (<usize>i << alignof<u64>()));
}

/** True if `n` is prime. Exact for all of u64, in microseconds. */
export function isPrime(n: u64): bool {
  for (let i = 0; i < BASE_COUNT; ++i) {
    let p = base(i);
    if (n == p) return true;
    if (n % p == 0) return false;
  }
  if (n < 41 * 41) return n > 1; // no factor up to 37, so prime unless 0 or 1
  // n is odd from here on, so Montgomery arithmetic modulo n applies (x stands for x·2^64 mod n),
  // which needs only 64×64→128 products, never a 128-bit division. The values every step needs are
  // locals passed down, not fields of an object: the compiler then keeps them in registers, where an
  // object's fields would be loaded from memory again at each multiplication.
  let inverse = inverseOf(n);
  let one = (0 - n) % n; // 2^64 mod n: the form of 1
  let r2 = one; // 2^128 mod n: multiplying by it converts into the form
  for (let i = 0; i < 64; ++i) r2 = addMod(r2, r2, n);
  let s = ctz(n - 1);
  let d = (n - 1) >> s;
  let minusOne = n - one;
  for (let i = 0; i < BASE_COUNT; ++i) {
    let x = power(montgomery(base(i) % n, r2, n, inverse), d, one, n, inverse);
    if (x == one || x == minusOne) continue;
    let witness = true;
    for (let r: u64 = 1; r < s; ++r) {
      x = montgomery(x, x, n, inverse);
      if (x == minusOne) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}

/** n⁻¹ mod 2^64 for an odd n: Newton's iteration doubles the correct low bits each step, 3 → 96. */
function inverseOf(n: u64): u64 {
  let inverse = n;
  for (let i = 0; i < 5; ++i) inverse *= 2 - n * inverse;
  return inverse;
}

/** x^e in Montgomery form, by squaring. */
function power(x: u64, e: u64, one: u64, n: u64, inverse: u64): u64 {
  let result = one;
  while (e) {
    if (e & 1) result = montgomery(result, x, n, inverse);
    x = montgomery(x, x, n, inverse);
    e >>= 1;
  }
  return result;
}

/** a·b·2^-64 mod n, for a, b < n; `inverse` is n⁻¹ mod 2^64. */
// Inlined: Miller–Rabin is a loop of these, and a call per multiplication costs a third of the time.
// @ts-ignore: decorator (asc inlines it; TypeScript has no decorators on functions)
@inline function montgomery(a: u64, b: u64, n: u64, inverse: u64): u64 {
  let high = mulHigh(a, b);
  // m·n matches a·b in the low 64 bits, so a·b - m·n is a multiple of 2^64.
  let m = a * b * inverse;
  let mnHigh = mulHigh(m, n);
  let r = high - mnHigh;
  return high < mnHigh ? r + n : r;
}

/** (a + b) mod n for a, b < n, without losing the carry. */
// @ts-ignore: decorator
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
