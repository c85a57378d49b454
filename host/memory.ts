// Bounds-checked access to the module's linear memory. Every pointer and length comes from the
// module and is checked like cpp-host's getMemory/setMemory (src/v8/v8.cc): out of range means
// "no memory", which hostcalls turn into InvalidMemoryAccess, never a JS exception.
// The module may grow its memory at any call; the views over it are rebuilt when that happened.

export class ModuleMemory {
  private bytes: Uint8Array;
  private words: DataView;
  private readonly shared: boolean;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    this.bytes = new Uint8Array(memory.buffer);
    this.words = new DataView(memory.buffer);
  }

  get size(): number {
    return this.current().length;
  }

  /**
   * The whole memory as bytes. Growing detaches the old buffer of an unshared memory (its views
   * read as empty), so only an empty view needs a look at memory.buffer; a shared memory keeps
   * its old buffer at the old size.
   */
  private current(): Uint8Array {
    if (this.bytes.length === 0 || (this.shared && this.memory.buffer.byteLength !== this.bytes.length)) {
      this.bytes = new Uint8Array(this.memory.buffer);
      this.words = new DataView(this.memory.buffer);
    }
    return this.bytes;
  }

  private inRange(ptr: number, len: number): boolean {
    return ptr + len <= this.current().length;
  }

  /** A copy of [ptr, ptr+len), or null when out of range. */
  read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0;
    len >>>= 0;
    if (!this.inRange(ptr, len)) return null;
    return this.bytes.slice(ptr, ptr + len);
  }

  /**
   * [ptr, ptr+len) without a copy, or null when out of range. Only for use before the module runs
   * again (a malloc may grow the memory and detach it); read() for anything kept.
   */
  view(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0;
    len >>>= 0;
    if (!this.inRange(ptr, len)) return null;
    return this.bytes.subarray(ptr, ptr + len);
  }

  write(ptr: number, data: Uint8Array): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, data.length)) return false;
    this.bytes.set(data, ptr);
    return true;
  }

  readU32(ptr: number): number | null {
    ptr >>>= 0;
    if (!this.inRange(ptr, 4)) return null;
    return this.words.getUint32(ptr, true);
  }

  writeU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, 4)) return false;
    this.words.setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, 8)) return false;
    this.words.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }
}
