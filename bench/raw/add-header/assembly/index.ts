// add-header without an SDK: `hello: world` added to every response's headers.
import { proxy_add_header_map_value, rawMalloc } from "../../abi";

const RESPONSE_HEADERS: u32 = 2;
const NAME = memory.data<u8>([0x68, 0x65, 0x6c, 0x6c, 0x6f]); // hello
const VALUE = memory.data<u8>([0x77, 0x6f, 0x72, 0x6c, 0x64]); // world

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return rawMalloc(size);
}

export function proxy_on_vm_start(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_context_create(id: u32, parent: u32): void {}

export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  proxy_add_header_map_value(RESPONSE_HEADERS, NAME, 5, VALUE, 5);
  return 0; // Continue
}
