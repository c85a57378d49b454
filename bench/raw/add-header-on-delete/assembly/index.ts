// The raw add-header with an empty proxy_on_delete: the host then calls into the module once more per
// stream, as it does for any filter that keeps state per stream (an SDK frees its context there).
export * from "../../add-header/assembly/index";

export function proxy_on_delete(id: u32): void {}
