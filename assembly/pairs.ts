// The ABI's header map encoding ("pairs"):
//   u32 count, then count × (u32 nameLength, u32 valueLength), then count × (name, 0x00, value, 0x00).
// Shared by header maps, local responses, callouts, gRPC metadata and map-valued properties.
import { emptyBuffer } from "./runtime/memory";
import { decodeUtf8, encodeUtf8 } from "./utf8";

/** Shared by every empty name or value: headers built per request allocate nothing for them. */
// @ts-ignore: decorator
@lazy const EMPTY = emptyBuffer();

function encode(text: string): ArrayBuffer {
  return text.length ? encodeUtf8(text) : EMPTY;
}

/** One header: bytes underneath (values need not be UTF-8), with string views. */
export class Header {
  nameBytes: ArrayBuffer;
  valueBytes: ArrayBuffer;

  constructor(name: string, value: string) {
    this.nameBytes = encode(name);
    this.valueBytes = encode(value);
  }

  static fromBytes(name: ArrayBuffer, value: ArrayBuffer): Header {
    const header = new Header("", "");
    header.nameBytes = name;
    header.valueBytes = value;
    return header;
  }

  get name(): string { return decodeUtf8(this.nameBytes); }
  get value(): string { return decodeUtf8(this.valueBytes); }
}

const COUNT_SIZE: usize = 4;
const LENGTHS_SIZE: usize = 8;

export function serializePairs(headers: Header[]): ArrayBuffer {
  const count = headers.length;
  let size = COUNT_SIZE + <usize>count * LENGTHS_SIZE;
  for (let i = 0; i < count; i++) {
    size += <usize>headers[i].nameBytes.byteLength + <usize>headers[i].valueBytes.byteLength + 2;
  }
  const buffer = new ArrayBuffer(<i32>size); // zero-filled, so the NUL terminators are already there
  const base = changetype<usize>(buffer);
  store<u32>(base, count);
  let data = base + COUNT_SIZE + <usize>count * LENGTHS_SIZE;
  for (let i = 0; i < count; i++) {
    const name = headers[i].nameBytes;
    const value = headers[i].valueBytes;
    store<u32>(base + COUNT_SIZE + <usize>i * LENGTHS_SIZE, name.byteLength);
    store<u32>(base + COUNT_SIZE + <usize>i * LENGTHS_SIZE, value.byteLength, 4);
    memory.copy(data, changetype<usize>(name), name.byteLength);
    data += <usize>name.byteLength + 1;
    memory.copy(data, changetype<usize>(value), value.byteLength);
    data += <usize>value.byteLength + 1;
  }
  return buffer;
}

/**
 * Walks an encoded pairs buffer in place. `next()` moves to the following pair, false at the end or
 * at anything malformed (short, overlong counts, missing NULs); `complete` says whether the walk
 * ended exactly at the end of a well-formed buffer, which is when its pairs may be used, as in Envoy.
 */
export class PairCursor {
  name: usize = 0;
  nameLength: usize = 0;
  value: usize = 0;
  valueLength: usize = 0;
  private index: usize = 0;
  private count: usize = 0;
  private data: usize = 0;
  private end: usize;
  private malformed: bool = false;

  constructor(private readonly buffer: ArrayBuffer) {
    const size = <usize>buffer.byteLength;
    const base = changetype<usize>(buffer);
    this.end = base + size;
    const count: usize = size < COUNT_SIZE ? 0 : <usize>load<u32>(base);
    if (size < COUNT_SIZE || count > (size - COUNT_SIZE) / LENGTHS_SIZE) {
      this.malformed = true;
    } else {
      this.count = count;
      this.data = base + COUNT_SIZE + count * LENGTHS_SIZE;
    }
  }

  next(): bool {
    if (this.malformed || this.index == this.count) return false;
    const lengths = changetype<usize>(this.buffer) + COUNT_SIZE + this.index * LENGTHS_SIZE;
    const nameLength = <usize>load<u32>(lengths);
    const valueLength = <usize>load<u32>(lengths, 4);
    const data = this.data;
    // In 64 bits: two u32 lengths must not wrap around the bounds check.
    if (<u64>nameLength + <u64>valueLength + 2 > <u64>(this.end - data) ||
        load<u8>(data + nameLength) != 0 || load<u8>(data + nameLength + 1 + valueLength) != 0) {
      this.malformed = true;
      return false;
    }
    this.name = data;
    this.nameLength = nameLength;
    this.value = data + nameLength + 1;
    this.valueLength = valueLength;
    this.data = this.value + valueLength + 1;
    this.index++;
    return true;
  }

  get complete(): bool {
    return !this.malformed && this.index == this.count && this.data == this.end;
  }
}

/** Decodes pairs. Anything malformed yields an empty list, as in Envoy. */
export function deserializePairs(buffer: ArrayBuffer): Header[] {
  const headers = new Array<Header>();
  const cursor = new PairCursor(buffer);
  while (cursor.next()) headers.push(Header.fromBytes(sliceOf(cursor.name, cursor.nameLength), sliceOf(cursor.value, cursor.valueLength)));
  return cursor.complete ? headers : new Array<Header>();
}

function sliceOf(pointer: usize, length: usize): ArrayBuffer {
  const slice = new ArrayBuffer(<i32>length);
  memory.copy(changetype<usize>(slice), pointer, length);
  return slice;
}
