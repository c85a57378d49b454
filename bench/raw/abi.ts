// The floor: the bare minimum a Proxy-Wasm filter needs, written directly against ABI v0.2.1 with
// no SDK. Built with `--runtime stub` and no managed allocation at all: strings are static UTF-8
// bytes (memory.data), and the memory the host asks for through `malloc` comes from an arena that
// every callback resets, since what the host copies in is read within the callback that asked.

@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: u32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): u32;
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: u32, retPtr: usize, retSize: usize): u32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, detailsPtr: usize, detailsSize: usize, bodyPtr: usize, bodySize: usize,
  headersPtr: usize, headersSize: usize, grpcStatus: i32): u32;

/** Replaces asc's env.abort import (Envoy offers none): trap. */
// @ts-ignore: decorator
@global export function rawAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}

let arenaTop: usize = 0;

/** Called first thing in every callback that makes a host call returning memory. */
// @ts-ignore: decorator
@inline export function resetArena(): void {
  arenaTop = (__heap_base + 15) & ~15;
}

/** The allocator the host calls to copy data in: a bump pointer over the arena. */
export function rawMalloc(size: usize): usize {
  let ptr = arenaTop;
  if (ptr == 0) ptr = (__heap_base + 15) & ~15;
  const end = (ptr + size + 15) & ~15;
  const have = <usize>memory.size() << 16;
  if (end > have) {
    if (memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) return 0;
  }
  arenaTop = end;
  return ptr;
}
