// Custom sections of a wasm binary: where they are, how to drop the sourceMappingURL asc writes and how to
// add one. A custom section after the code section moves no code, so the source map's byte offsets still hold.

export interface CustomSection {
  name: string;
  /** Where the section starts (its id byte) and ends in the binary. */
  start: number;
  end: number;
  /** The section's content after its name. */
  content: Uint8Array;
}

const CODE_SECTION = 10;

function readU32(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= bytes.length) throw new Error("unexpected end of module");
    const b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
  }
  throw new Error("bad LEB128");
}

function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/** Every custom section, in order, and whether each comes after the code section. Throws on a malformed binary. */
export function customSections(bytes: Uint8Array): (CustomSection & { afterCode: boolean })[] {
  const found: (CustomSection & { afterCode: boolean })[] = [];
  let pos = 8;
  let afterCode = false;
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++];
    const [size, body] = readU32(bytes, pos);
    const end = body + size;
    if (end > bytes.length) throw new Error("section runs past the end of the module");
    if (id === 0) {
      const [nameLength, nameStart] = readU32(bytes, body);
      const name = new TextDecoder().decode(bytes.subarray(nameStart, nameStart + nameLength));
      found.push({ name, start, end, content: bytes.subarray(nameStart + nameLength, end), afterCode });
    } else if (id === CODE_SECTION) {
      afterCode = true;
    }
    pos = end;
  }
  return found;
}

/** The URL in the module's sourceMappingURL section, if it has one. */
export function sourceMappingUrlOf(bytes: Uint8Array): string | null {
  const section = customSections(bytes).find((s) => s.name === "sourceMappingURL");
  if (!section) return null;
  const [length, start] = readU32(section.content, 0);
  return new TextDecoder().decode(section.content.subarray(start, start + length));
}

/**
 * The module without its sourceMappingURL section: what asc emits without --sourceMap, byte for byte (asc/binaryen
 * writes that section last). A section before the code would move the code, so that binary is returned unchanged.
 */
export function withoutSourceMappingUrl(bytes: Uint8Array): Uint8Array {
  const section = customSections(bytes).find((s) => s.name === "sourceMappingURL");
  if (!section || !section.afterCode) return bytes;
  const out = new Uint8Array(bytes.length - (section.end - section.start));
  out.set(bytes.subarray(0, section.start), 0);
  out.set(bytes.subarray(section.end), section.start);
  return out;
}

function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...encodeU32(b.length), ...b];
}

/** The module with custom sections appended (after everything, so no code moves). */
export function withCustomSections(bytes: Uint8Array, sections: { name: string; content: Uint8Array }[]): Uint8Array {
  const encoded = sections.map(({ name, content }) => {
    const payload = [...encodeName(name), ...content];
    return Uint8Array.from([0, ...encodeU32(payload.length), ...payload]);
  });
  const out = new Uint8Array(bytes.length + encoded.reduce((n, e) => n + e.length, 0));
  out.set(bytes, 0);
  let at = bytes.length;
  for (const e of encoded) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/** A sourceMappingURL section's content. */
export function sourceMappingUrlSection(url: string): { name: string; content: Uint8Array } {
  return { name: "sourceMappingURL", content: Uint8Array.from(encodeName(url)) };
}

/** The content of the module's name section, or null. */
export function nameSection(bytes: Uint8Array): Uint8Array | null {
  return customSections(bytes).find((s) => s.name === "name")?.content ?? null;
}

/** Function index -> name from a name section's function names (subsection 1). */
export function functionNames(content: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  let pos = 0;
  while (pos < content.length) {
    const id = content[pos++];
    const [size, body] = readU32(content, pos);
    pos = body + size;
    if (id !== 1) continue;
    let [count, p] = readU32(content, body);
    for (; count > 0; count--) {
      let index: number;
      let length: number;
      [index, p] = readU32(content, p);
      [length, p] = readU32(content, p);
      names.set(index, new TextDecoder().decode(content.subarray(p, p + length)));
      p += length;
    }
  }
  return names;
}

/** Where each function body of the code section starts and ends in the binary, in order. Throws on a malformed binary. */
export function functionBodies(bytes: Uint8Array): { start: number; end: number }[] {
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const [size, body] = readU32(bytes, pos);
    pos = body + size;
    if (id !== CODE_SECTION) continue;
    const bodies: { start: number; end: number }[] = [];
    let [count, p] = readU32(bytes, body);
    for (; count > 0; count--) {
      const [length, start] = readU32(bytes, p);
      p = start + length;
      if (p > pos) throw new Error("function body runs past the code section");
      bodies.push({ start, end: p });
    }
    return bodies;
  }
  return [];
}
