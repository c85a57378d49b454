import { isPrime } from "../../examples/prime-authorizer/assembly/prime";
import { parseDecimalU64 } from "../../examples/prime-authorizer/assembly/token";

describe("isPrime", () => {
  it("handles the smallest numbers", () => {
    expect(isPrime(0)).toBe(false);
    expect(isPrime(1)).toBe(false);
    expect(isPrime(2)).toBe(true);
    expect(isPrime(3)).toBe(true);
    expect(isPrime(4)).toBe(false);
    expect(isPrime(37)).toBe(true);
    expect(isPrime(41)).toBe(true);
  });

  it("agrees with a sieve below 100000", () => {
    const limit = 100000;
    let composite = new StaticArray<bool>(limit);
    for (let i = 2; i * i < limit; ++i) {
      if (!composite[i]) for (let j = i * i; j < limit; j += i) composite[j] = true;
    }
    let mismatches = 0;
    let count = 0;
    for (let i = 0; i < limit; ++i) {
      let expected = i >= 2 && !composite[i];
      if (isPrime(<u64>i) != expected) mismatches++;
      if (expected) count++;
    }
    expect(mismatches).toBe(0);
    expect(count).toBe(9592);
  });

  it("rejects squares of primes just past the trial-division bound", () => {
    expect(isPrime(1369)).toBe(false); // 37²
    expect(isPrime(1681)).toBe(false); // 41²
    expect(isPrime(1763)).toBe(false); // 41·43
  });

  it("rejects Carmichael numbers and strong pseudoprimes", () => {
    expect(isPrime(561)).toBe(false);
    expect(isPrime(2047)).toBe(false); // base 2
    expect(isPrime(1373653)).toBe(false); // bases 2, 3
    expect(isPrime(25326001)).toBe(false); // bases 2, 3, 5
    expect(isPrime(3215031751)).toBe(false); // bases 2..7
    expect(isPrime(2152302898747)).toBe(false); // bases 2..11
    expect(isPrime(3474749660383)).toBe(false); // bases 2..13
    expect(isPrime(341550071728321)).toBe(false); // bases 2..17
    expect(isPrime(3825123056546413051)).toBe(false); // bases 2..23
  });

  it("is exact near the top of u64", () => {
    expect(isPrime(2147483647)).toBe(true); // 2^31 - 1
    expect(isPrime(4294967291)).toBe(true); // largest prime below 2^32
    expect(isPrime(2305843009213693951)).toBe(true); // 2^61 - 1
    expect(isPrime(9223372036854775783)).toBe(true); // largest prime below 2^63
    expect(isPrime(9223372036854775808)).toBe(false); // 2^63
    expect(isPrime(18446744073709551533)).toBe(true);
    expect(isPrime(18446744073709551557)).toBe(true); // largest u64 prime
    expect(isPrime(18446744073709551615)).toBe(false); // 2^64 - 1
    expect(isPrime(18446744030759878681)).toBe(false); // 4294967291²
    expect(isPrime(18446743979220271189)).toBe(false); // 4294967279 · 4294967291
  });
});

describe("parseDecimalU64", () => {
  it("reads plain digits, leading zeros included", () => {
    let zero = parseDecimalU64("0");
    expect(zero.ok).toBe(true);
    expect(zero.value).toBe(0);
    let seven = parseDecimalU64("007");
    expect(seven.ok).toBe(true);
    expect(seven.value).toBe(7);
    let max = parseDecimalU64("18446744073709551615");
    expect(max.ok).toBe(true);
    expect(max.value).toBe(u64.MAX_VALUE);
  });

  it("rejects anything but digits", () => {
    expect(parseDecimalU64("").ok).toBe(false);
    expect(parseDecimalU64("-5").ok).toBe(false);
    expect(parseDecimalU64("+5").ok).toBe(false);
    expect(parseDecimalU64(" 5").ok).toBe(false);
    expect(parseDecimalU64("5 ").ok).toBe(false);
    expect(parseDecimalU64("1e3").ok).toBe(false);
    expect(parseDecimalU64("0x10").ok).toBe(false);
    expect(parseDecimalU64("1.0").ok).toBe(false);
    expect(parseDecimalU64("\uFF15").ok).toBe(false); // fullwidth 5
  });

  it("rejects values past u64", () => {
    expect(parseDecimalU64("18446744073709551616").ok).toBe(false);
    expect(parseDecimalU64("18446744073709551620").ok).toBe(false);
    expect(parseDecimalU64("99999999999999999999").ok).toBe(false);
  });

  it("handles 100000-digit input", () => {
    expect(parseDecimalU64("1".repeat(100000)).ok).toBe(false);
    let padded = parseDecimalU64("0".repeat(100000) + "42");
    expect(padded.ok).toBe(true);
    expect(padded.value).toBe(42);
  });
});
