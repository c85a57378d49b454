// The ABI's header map encoding ("pairs"):
//   u32 count, then count × (u32 nameLength, u32 valueLength), then count × (name, 0x00, value, 0x00).
// Shared by header maps, local responses, callouts, gRPC metadata and map-valued properties.
import { decodeUtf8 } from "./utf8";

/** One header: bytes underneath (values need not be UTF-8), with string views. */
// @ts-ignore: decorator
@lazy const EMPTY = new ArrayBuffer(0);

function encode(text: string): ArrayBuffer {
  return text.length ? String.UTF8.encode(text) : EMPTY;
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

/** Decodes pairs. Anything malformed (short, overlong counts, missing NULs) yields an empty list, as in Envoy. */
export function deserializePairs(buffer: ArrayBuffer): Header[] {
  const headers = new Array<Header>();
  const size = <usize>buffer.byteLength;
  if (size < COUNT_SIZE) return headers;
  const base = changetype<usize>(buffer);
  const count = <usize>load<u32>(base);
  if (count > (size - COUNT_SIZE) / LENGTHS_SIZE) return headers;
  const end = base + size;
  let data = base + COUNT_SIZE + count * LENGTHS_SIZE;
  for (let i: usize = 0; i < count; i++) {
    const nameLength = <usize>load<u32>(base + COUNT_SIZE + i * LENGTHS_SIZE);
    const valueLength = <usize>load<u32>(base + COUNT_SIZE + i * LENGTHS_SIZE, 4);
    // In 64 bits: two u32 lengths must not wrap around the bounds check.
    if (<u64>nameLength + <u64>valueLength + 2 > <u64>(end - data)) return new Array<Header>();
    if (load<u8>(data + nameLength) != 0 || load<u8>(data + nameLength + 1 + valueLength) != 0) return new Array<Header>();
    const name = sliceOf(data, nameLength);
    data += nameLength + 1;
    const value = sliceOf(data, valueLength);
    data += valueLength + 1;
    headers.push(Header.fromBytes(name, value));
  }
  return data == end ? headers : new Array<Header>();
}

function sliceOf(pointer: usize, length: usize): ArrayBuffer {
  const slice = new ArrayBuffer(<i32>length);
  memory.copy(changetype<usize>(slice), pointer, length);
  return slice;
}
