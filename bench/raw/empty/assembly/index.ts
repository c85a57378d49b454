// The host floor: only what the host requires to load a module (ABI marker, allocator, memory).
// Every callback is missing, so the host calls nothing per request: what remains is the host's own cost.
import { rawMalloc } from "../../abi";

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return rawMalloc(size);
}
