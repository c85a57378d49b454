// Deterministic Miller–Rabin over u64 without an SDK, written for speed: no allocation, every value the
// loop needs in a local, the Montgomery multiplication written out in place.
// The same algorithm as examples/prime-authorizer/assembly/prime.ts (the bench compares the two).

const BASES = memory.data<u64>([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);

export function isPrime(n: u64): bool {
  for (let i = 0; i < 12; ++i) {
    const p = load<u64>(BASES + (<usize>i << 3));
    if (n == p) return true;
    if (n % p == 0) return false;
  }
  if (n < 41 * 41) return n > 1;
  let inverse = n;
  for (let i = 0; i < 5; ++i) inverse *= 2 - n * inverse;
  const one = (0 - n) % n;
  let r2 = one;
  for (let i = 0; i < 64; ++i) {
    const sum = r2 + r2;
    r2 = sum < r2 || sum >= n ? sum - n : sum;
  }
  const s = ctz(n - 1);
  const d = (n - 1) >> s;
  const minusOne = n - one;
  for (let i = 0; i < 12; ++i) {
    let x = pow(mul(load<u64>(BASES + (<usize>i << 3)) % n, r2, n, inverse), d, one, n, inverse);
    if (x == one || x == minusOne) continue;
    let witness = true;
    for (let r: u64 = 1; r < s; ++r) {
      x = mul(x, x, n, inverse);
      if (x == minusOne) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}

/** A function of its own: written out inside the bases' loop, V8 allocates registers worse (about 1.7x slower). */
function pow(x: u64, e: u64, one: u64, n: u64, inverse: u64): u64 {
  let result = one;
  while (e) {
    if (e & 1) result = mul(result, x, n, inverse);
    x = mul(x, x, n, inverse);
    e >>= 1;
  }
  return result;
}

// @ts-ignore: decorator
@inline function mul(a: u64, b: u64, n: u64, inverse: u64): u64 {
  const high = mulHigh(a, b);
  const m = a * b * inverse;
  const mnHigh = mulHigh(m, n);
  const r = high - mnHigh;
  return high < mnHigh ? r + n : r;
}

// @ts-ignore: decorator
@inline function mulHigh(a: u64, b: u64): u64 {
  const aLow = a & 0xFFFFFFFF;
  const aHigh = a >> 32;
  const bLow = b & 0xFFFFFFFF;
  const bHigh = b >> 32;
  const lowHigh = aLow * bHigh;
  const highLow = aHigh * bLow;
  const middle = ((aLow * bLow) >> 32) + (lowHigh & 0xFFFFFFFF) + (highLow & 0xFFFFFFFF);
  return aHigh * bHigh + (lowHigh >> 32) + (highLow >> 32) + (middle >> 32);
}
