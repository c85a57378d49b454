// prime-authorizer without an SDK: the request continues only when it carries exactly one `token`
// header holding a plain decimal u64 that is prime (deterministic Miller–Rabin, ../../prime.ts); otherwise a 403
// local reply with body `Access forbidden.`. Same semantics as examples/prime-authorizer.
import { proxy_get_header_map_pairs, proxy_send_local_response, rawMalloc, resetArena } from "../../abi";
import { isPrime } from "../../prime";

const REQUEST_HEADERS: u32 = 0;
const TOKEN = memory.data<u8>([0x74, 0x6f, 0x6b, 0x65, 0x6e]); // token
// Access forbidden.
const FORBIDDEN = memory.data<u8>([
  0x41, 0x63, 0x63, 0x65, 0x73, 0x73, 0x20, 0x66, 0x6f, 0x72, 0x62, 0x69, 0x64, 0x64, 0x65, 0x6e, 0x2e,
]);
const NO_HEADERS = memory.data(4); // a pairs buffer with a count of 0
const OUT = memory.data(8); // (pointer, size) out-parameters

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
