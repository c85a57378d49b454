// Bounds-checked access to the module's linear memory. Every pointer and length comes from the
// module and is checked like cpp-host's getMemory/setMemory (src/v8/v8.cc): out of range means
// "no memory", which hostcalls turn into InvalidMemoryAccess, never a JS exception.
// memory.buffer is re-read on every access because the module may grow its memory.

export class ModuleMemory {
  constructor(private readonly memory: WebAssembly.Memory) {}

  get size(): number {
    return this.memory.buffer.byteLength;
  }

  private inRange(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.size;
  }

  /** A copy of [ptr, ptr+len), or null when out of range. */
  read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0;
    len >>>= 0;
    if (!this.inRange(ptr, len)) return null;
    return new Uint8Array(this.memory.buffer, ptr, len).slice();
  }

  write(ptr: number, data: Uint8Array): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, data.length)) return false;
    new Uint8Array(this.memory.buffer, ptr, data.length).set(data);
    return true;
  }

  readU32(ptr: number): number | null {
    const b = this.read(ptr, 4);
    return b === null ? null : new DataView(b.buffer).getUint32(0, true);
  }

  writeU32(ptr: number, value: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.write(ptr, b);
  }

  writeU64(ptr: number, value: bigint): boolean {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    return this.write(ptr, b);
  }
}
