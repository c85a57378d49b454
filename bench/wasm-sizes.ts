// Where the bytes of a module go: section sizes, and function body sizes by name when the module
// has a name section (asc --debug). Just enough of the binary format for that; no validation.

const SECTION_NAMES = [
  "custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data",
  "datacount", "tag",
];

export interface SectionSize {
  name: string;
  bytes: number;
}

export interface FunctionSize {
  index: number;
  name: string;
  bytes: number;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {}

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.pos++];
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

interface RawSection {
  id: number;
  start: number;
  end: number;
  /** Total size including id and size prefix. */
  bytes: number;
  customName?: string;
}

function sections(bytes: Uint8Array): RawSection[] {
  const r = new Reader(bytes, 8);
  const out: RawSection[] = [];
  while (r.pos < bytes.length) {
    const begin = r.pos;
    const id = bytes[r.pos++];
    const size = r.u32();
    const start = r.pos;
    const section: RawSection = { id, start, end: start + size, bytes: start + size - begin };
    if (id === 0) section.customName = new Reader(bytes, start).name();
    out.push(section);
    r.pos = start + size;
  }
  return out;
}

/** Bytes per section, custom sections by their name; the 8-byte header as "header". */
export function sectionSizes(bytes: Uint8Array): SectionSize[] {
  const out: SectionSize[] = [{ name: "header", bytes: 8 }];
  for (const s of sections(bytes)) {
    out.push({ name: s.id === 0 ? `custom:${s.customName}` : (SECTION_NAMES[s.id] ?? `section${s.id}`), bytes: s.bytes });
  }
  return out;
}

/** Function bodies, largest first, named from the name section when there is one. */
export function functionSizes(bytes: Uint8Array): FunctionSize[] {
  const all = sections(bytes);
  let imported = 0;
  const importSection = all.find((s) => s.id === 2);
  if (importSection) {
    const r = new Reader(bytes, importSection.start);
    for (let n = r.u32(); n > 0; n--) {
      r.name();
      r.name();
      const kind = bytes[r.pos++];
      if (kind === 0) {
        r.u32();
        imported++;
      } else if (kind === 1) {
        r.pos++;
        limits(r);
      } else if (kind === 2) {
        limits(r);
      } else if (kind === 3) {
        r.pos += 2;
      } else {
        r.pos++;
        r.u32();
      }
    }
  }
  const names = new Map<number, string>();
  const nameSection = all.find((s) => s.id === 0 && s.customName === "name");
  if (nameSection) {
    const r = new Reader(bytes, nameSection.start);
    r.name();
    while (r.pos < nameSection.end) {
      const sub = bytes[r.pos++];
      const size = r.u32();
      const end = r.pos + size;
      if (sub === 1) {
        for (let n = r.u32(); n > 0; n--) {
          const index = r.u32();
          names.set(index, r.name());
        }
      }
      r.pos = end;
    }
  }
  const code = all.find((s) => s.id === 10);
  const out: FunctionSize[] = [];
  if (!code) return out;
  const r = new Reader(bytes, code.start);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const begin = r.pos;
    const size = r.u32();
    r.pos += size;
    const index = imported + i;
    out.push({ index, name: names.get(index) ?? `func${index}`, bytes: r.pos - begin });
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}

function limits(r: Reader): void {
  const flags = r.bytes[r.pos++];
  r.u32();
  if (flags & 1) r.u32();
}

/** The module with a custom section appended: same code, different bytes (defeats V8's module cache). */
export function withCustomSection(bytes: Uint8Array, label: string): Uint8Array {
  const name = new TextEncoder().encode("bench");
  const payload = new TextEncoder().encode(label);
  const body = [...leb(name.length), ...name, ...payload];
  const out = new Uint8Array(bytes.length + 1 + leb(body.length).length + body.length);
  out.set(bytes, 0);
  let pos = bytes.length;
  out[pos++] = 0;
  for (const b of leb(body.length)) out[pos++] = b;
  out.set(body, pos);
  return out;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
