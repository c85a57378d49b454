// Stresses the SDK's runtime (assembly/runtime/heap.ts) between callbacks, where it collects:
// - the root keeps a linked list that grows by `x-grow` nodes per request up to 3,000 (deeper than
//   the marker's recursion limit) and is then dropped; its checksum is verified on every request;
// - each stream keeps buffers of `x-size` bytes and a string array from request to response headers
//   and checks they survived collections intact;
// - the request body is read (a pinned host buffer handed over) and echoed as a length.
// The response carries x-heap: ok | corrupt, and x-list: the list's length.
import {
  FilterDataStatus, FilterHeadersStatus, HttpContext, registerRootContext, RootContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const LIST_LIMIT: u32 = 3000;

class ListNode {
  constructor(readonly value: u32, readonly next: ListNode | null) {}
}

class HeapRoot extends RootContext {
  list: ListNode | null = null;
  length: u32 = 0;

  grow(count: u32): void {
    for (let i: u32 = 0; i < count; i++) {
      this.list = new ListNode(this.length + 1, this.list);
      this.length++;
    }
    if (this.length > LIST_LIMIT) {
      this.list = null;
      this.length = 0;
    }
  }

  /** The nodes hold length, length-1, ..., 1. */
  listIntact(): bool {
    let expected = this.length;
    let node = this.list;
    while (node) {
      if (node.value != expected) return false;
      expected--;
      node = node.next;
    }
    return expected == 0;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new HeapStream(contextId, this);
  }
}

function filled(size: i32, seed: u8): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = <u8>(seed + i);
  return bytes;
}

function intact(bytes: Uint8Array, seed: u8): bool {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] != <u8>(seed + i)) return false;
  return true;
}

class HeapStream extends HttpContext {
  private kept: Uint8Array[] = [];
  private words: string[] = [];
  private bodyBytes: i32 = 0;
  private healthy: bool = true;

  constructor(id: u32, readonly heap: HeapRoot) {
    super(id, heap);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const size = this.headerNumber("x-size");
    for (let i = 0; i < 4; i++) this.kept.push(filled(size >> i, <u8>(this.id + i)));
    for (let i = 0; i < 20; i++) this.words.push("word-" + i.toString() + "-" + this.id.toString());
    this.heap.grow(<u32>this.headerNumber("x-grow"));
    this.healthy = this.heap.listIntact();
    return FilterHeadersStatus.Continue;
  }

  private headerNumber(name: string): i32 {
    const value = this.requestHeaders.get(name);
    return value ? I32.parseInt(value) : 0;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    this.bodyBytes += this.requestBody.read().byteLength;
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let ok = this.healthy && this.heap.listIntact();
    for (let i = 0; i < this.kept.length; i++) ok = ok && intact(this.kept[i], <u8>(this.id + i));
    for (let i = 0; i < this.words.length; i++) ok = ok && this.words[i] == "word-" + i.toString() + "-" + this.id.toString();
    this.responseHeaders.add("x-heap", ok ? "ok" : "corrupt");
    this.responseHeaders.add("x-list", this.heap.length.toString());
    this.responseHeaders.add("x-body", this.bodyBytes.toString());
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new HeapRoot(contextId));
