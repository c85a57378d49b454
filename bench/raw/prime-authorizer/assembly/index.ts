// prime-authorizer without an SDK: the request continues only when it carries exactly one `token`
// header holding a plain decimal u64 that is prime (deterministic Miller–Rabin); otherwise a 403
// local reply with body `Access forbidden.`. Same semantics as examples/prime-authorizer.
import { proxy_get_header_map_pairs, proxy_send_local_response, rawMalloc, resetArena } from "../../abi";

const REQUEST_HEADERS: u32 = 0;
const TOKEN = memory.data<u8>([0x74, 0x6f, 0x6b, 0x65, 0x6e]); // token
// Access forbidden.
const FORBIDDEN = memory.data<u8>([
  0x41, 0x63, 0x63, 0x65, 0x73, 0x73, 0x20, 0x66, 0x6f, 0x72, 0x62, 0x69, 0x64, 0x64, 0x65, 0x6e, 0x2e,
]);
const NO_HEADERS = memory.data(4); // a pairs buffer with a count of 0
const OUT = memory.data(8); // (pointer, size) out-parameters
const BASES = memory.data<u64>([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return rawMalloc(size);
}

export function proxy_on_vm_start(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_context_create(id: u32, parent: u32): void {}

export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  resetArena();
  if (authorized()) return 0; // Continue
  proxy_send_local_response(403, 0, 0, FORBIDDEN, 17, NO_HEADERS, 4, -1);
  return 1; // StopIteration
}

/** Exactly one `token` header, and its value a prime u64. */
function authorized(): bool {
  store<u64>(OUT, 0);
  if (proxy_get_header_map_pairs(REQUEST_HEADERS, OUT, OUT + 4) != 0) return false;
  const base = load<usize>(OUT);
  const size = load<usize>(OUT + 4);
  if (size < 4) return false;
  const count = load<u32>(base);
  let data = base + 4 + (<usize>count << 3);
  let found: usize = 0;
  let foundSize: usize = 0;
  let matches = 0;
  for (let i: usize = 0; i < count; i++) {
    const keySize = <usize>load<u32>(base + 4 + (i << 3));
    const valueSize = <usize>load<u32>(base + 8 + (i << 3));
    const value = data + keySize + 1;
    if (keySize == 5 && isToken(data)) {
      matches++;
      found = value;
      foundSize = valueSize;
    }
    data = value + valueSize + 1;
  }
  if (matches != 1 || foundSize == 0) return false;
  let n: u64 = 0;
  for (let i: usize = 0; i < foundSize; i++) {
    const digit = <u32>load<u8>(found + i) - 0x30;
    if (digit > 9 || n > (u64.MAX_VALUE - digit) / 10) return false;
    n = n * 10 + digit;
  }
  return isPrime(n);
}

/** ASCII case-insensitive `token`, as Envoy matches header names. */
function isToken(key: usize): bool {
  for (let i: usize = 0; i < 5; i++) {
    if ((load<u8>(key + i) | 0x20) != load<u8>(TOKEN + i)) return false;
  }
  return true;
}

// Montgomery arithmetic modulo an odd n, in globals: no allocation.
let mN: u64 = 0;
let mInverse: u64 = 0;
let mOne: u64 = 0;
let mR2: u64 = 0;

function isPrime(n: u64): bool {
  for (let i = 0; i < 12; ++i) {
    const p = load<u64>(BASES + (<usize>i << 3));
    if (n == p) return true;
    if (n % p == 0) return false;
  }
  if (n < 41 * 41) return n > 1;
  mN = n;
  let inverse = n;
  for (let i = 0; i < 5; ++i) inverse *= 2 - n * inverse;
  mInverse = inverse;
  const one = (0 - n) % n;
  mOne = one;
  let r2 = one;
  for (let i = 0; i < 64; ++i) {
    const sum = r2 + r2;
    r2 = sum < r2 || sum >= n ? sum - n : sum;
  }
  mR2 = r2;
  const s = ctz(n - 1);
  const d = (n - 1) >> s;
  const minusOne = n - one;
  for (let i = 0; i < 12; ++i) {
    let x = pow(mul(load<u64>(BASES + (<usize>i << 3)) % n, mR2), d);
    if (x == one || x == minusOne) continue;
    let witness = true;
    for (let r: u64 = 1; r < s; ++r) {
      x = mul(x, x);
      if (x == minusOne) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}

@inline function mul(a: u64, b: u64): u64 {
  const high = mulHigh(a, b);
  const m = a * b * mInverse;
  const mnHigh = mulHigh(m, mN);
  const r = high - mnHigh;
  return high < mnHigh ? r + mN : r;
}

function pow(x: u64, e: u64): u64 {
  let result = mOne;
  while (e) {
    if (e & 1) result = mul(result, x);
    x = mul(x, x);
    e >>= 1;
  }
  return result;
}

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
