// A minimal reader of the wasm binary format: just the sections the host must see and that the
// JS API does not expose (function types of imports/exports, memory limits, the start section).

import type { FuncSig, ValType } from "./abi/signatures.js";

export interface Limits {
  initial: number;
  maximum?: number;
  shared: boolean;
}
export type ImportDesc =
  | { kind: "function"; sig: FuncSig }
  | { kind: "table"; limits: Limits }
  | { kind: "memory"; limits: Limits }
  | { kind: "global" }
  | { kind: "tag" };
export interface ImportEntry {
  module: string;
  name: string;
  desc: ImportDesc;
}
export interface ExportEntry {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  sig?: FuncSig;
}
export interface ParsedModule {
  imports: ImportEntry[];
  exports: ExportEntry[];
  hasStartSection: boolean;
}

const VALTYPES: Record<number, ValType> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
const EXPORT_KINDS = ["function", "table", "memory", "global", "tag"] as const;

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}
  byte(): number {
    if (this.pos >= this.end) throw new Error("unexpected end of module");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error("bad LEB128");
    }
  }
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new Error("unexpected end of module");
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  valtype(): ValType {
    const b = this.byte();
    const t = VALTYPES[b];
    if (!t) throw new Error(`unsupported value type 0x${b.toString(16)}`);
    return t;
  }
  limits(): Limits {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0 };
  }
}

/** Throws on a malformed binary; callers report "Failed to parse corrupted Wasm module". */
export function parseModule(bytes: Uint8Array): ParsedModule {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const b of magic) if (r.byte() !== b) throw new Error("not a wasm module (bad magic or version)");
  const types: FuncSig[] = [];
  const imports: ImportEntry[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const rawExports: { name: string; kind: number; index: number }[] = [];
  let hasStartSection = false;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new Error("section extends past the end of the module");
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    if (id === 1) {
      for (let n = s.u32(); n > 0; n--) {
        if (s.byte() !== 0x60) throw new Error("unsupported type form");
        const params = Array.from({ length: s.u32() }, () => s.valtype());
        const results = Array.from({ length: s.u32() }, () => s.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = s.u32(); n > 0; n--) {
        const module = s.name();
        const name = s.name();
        const kind = s.byte();
        let desc: ImportDesc;
        if (kind === 0) {
          const idx = s.u32();
          if (!types[idx]) throw new Error("bad type index");
          funcTypes.push(idx);
          desc = { kind: "function", sig: types[idx] };
        } else if (kind === 1) {
          s.byte(); // element reference type
          desc = { kind: "table", limits: s.limits() };
        } else if (kind === 2) {
          desc = { kind: "memory", limits: s.limits() };
        } else if (kind === 3) {
          s.valtype();
          s.byte(); // mutability
          desc = { kind: "global" };
        } else if (kind === 4) {
          s.byte();
          s.u32();
          desc = { kind: "tag" };
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
        imports.push({ module, name, desc });
      }
    } else if (id === 3) {
      for (let n = s.u32(); n > 0; n--) funcTypes.push(s.u32());
    } else if (id === 7) {
      for (let n = s.u32(); n > 0; n--) {
        const name = s.name();
        const kind = s.byte();
        rawExports.push({ name, kind, index: s.u32() });
      }
    } else if (id === 8) {
      hasStartSection = true;
    }
    r.pos = end;
  }
  const exports = rawExports.map(({ name, kind, index }): ExportEntry => {
    const k = EXPORT_KINDS[kind];
    if (!k) throw new Error(`unknown export kind ${kind}`);
    if (k !== "function") return { name, kind: k };
    const sig = types[funcTypes[index]];
    if (!sig) throw new Error(`bad function index in export ${name}`);
    return { name, kind: k, sig };
  });
  return { imports, exports, hasStartSection };
}
