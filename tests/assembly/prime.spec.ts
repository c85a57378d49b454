import { isPrime } from "../../examples/prime-authorizer/assembly/prime";

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
