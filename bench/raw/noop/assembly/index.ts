// The host floor with every per-request callback present and doing nothing: what calling into
// Wasm seven times per request costs, before any SDK or filter work.
import { rawMalloc } from "../../abi";

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return rawMalloc(size);
}

export function proxy_on_vm_start(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_context_create(id: u32, parent: u32): void {}
export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): u32 { return 0; }
export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): u32 { return 0; }
export function proxy_on_response_body(id: u32, size: u32, endOfStream: u32): u32 { return 0; }
export function proxy_on_log(id: u32): void {}
export function proxy_on_done(id: u32): u32 { return 1; }
export function proxy_on_delete(id: u32): void {}
