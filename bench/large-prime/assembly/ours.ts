// The example authorizer's primality check, exported as it is, for the large-prime section.
import { isPrime } from "../../../examples/prime-authorizer/assembly/prime";

export function check(n: u64): bool {
  return isPrime(n);
}
