// The raw implementation of the same algorithm (bench/raw/prime.ts), for the large-prime section.
import { isPrime } from "../../raw/prime";

export function check(n: u64): bool {
  return isPrime(n);
}
