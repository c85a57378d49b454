// The ABI's header map encoding ("pairs"):
//   u32 count, then count × (u32 nameLength, u32 valueLength), then count × (name, 0x00, value, 0x00).
// Shared by header maps, local responses, callouts, gRPC metadata and map-valued properties.
import { byteLengthOf, emptyBuffer } from "./runtime/memory";
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

/** The encoding of no pairs (a zero count), shared: serialized pairs only ever go to the host. */
// @ts-ignore: decorator
@lazy const NO_PAIRS = zeroCount();

function zeroCount(): ArrayBuffer {
  const buffer = __new(COUNT_SIZE, idof<ArrayBuffer>());
  store<u32>(buffer, 0);
  return changetype<ArrayBuffer>(buffer);
}

/** The pairs encoding of `headers`. Inlined: no headers, the usual case of a local reply, cost no call. */
// @ts-ignore: decorator
@inline export function serializePairs(headers: Header[]): ArrayBuffer {
  return headers.length ? serializeHeaders(headers) : NO_PAIRS;
}

function serializeHeaders(headers: Header[]): ArrayBuffer {
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
 * How many pairs `buffer` holds, or -1 when anything is malformed (short, overlong counts or lengths,
 * missing NULs, bytes left over): then none may be used, as in Envoy. Checked once up front, so a walk
 * over a well-formed buffer needs no checks (see `firstName`, `nameLengthAt`, `valueLengthAt`).
 */
export function pairCount(buffer: ArrayBuffer): i32 {
  const size = <usize>buffer.byteLength;
  const base = changetype<usize>(buffer);
  if (size < COUNT_SIZE) return -1;
  const count = <usize>load<u32>(base);
  if (count > (size - COUNT_SIZE) / LENGTHS_SIZE) return -1;
  const end = base + size;
  let lengths = base + COUNT_SIZE;
  let data = lengths + count * LENGTHS_SIZE;
  for (let i: usize = 0; i < count; i++) {
    const nameLength = <usize>load<u32>(lengths);
    const valueLength = <usize>load<u32>(lengths, 4);
    lengths += LENGTHS_SIZE;
    data = pairEnd(data, end, nameLength, valueLength);
    if (!data) return -1;
  }
  return data == end ? <i32>count : -1;
}

/**
 * Where a pair with these lengths that starts at `data` ends, if it lies before `end` with its name and
 * value NUL-terminated; 0 if it does not. One 64-bit sum: two u32 lengths cannot wrap around it.
 */
// @ts-ignore: decorator
@inline function pairEnd(data: usize, end: usize, nameLength: usize, valueLength: usize): usize {
  const next = <u64>data + <u64>nameLength + <u64>valueLength + 2;
  if (next > <u64>end || (load<u8>(data + nameLength) | load<u8>(<usize>next - 1)) != 0) return 0;
  return <usize>next;
}

/** Where `countNamed` found the first match: its value's address in the buffer, and length. */
export let namedValue: usize = 0;
export let namedValueLength: usize = 0;

/**
 * How many pairs are named `name` (without regard to ASCII case, as Envoy compares header names),
 * checking the buffer in the same pass: 0 when `pairCount` would refuse it. Reads in place and decodes
 * nothing; the first match's value is left in `namedValue` and `namedValueLength`. Inlined into the lookups
 * (getSingle, getSingleU64, count): a request's header check is then one function.
 */
// @ts-ignore: decorator
@inline export function countNamed(buffer: ArrayBuffer, name: ArrayBuffer): i32 {
  const base = changetype<usize>(buffer);
  const size = byteLengthOf(buffer);
  if (size < COUNT_SIZE) return 0;
  const count = <usize>load<u32>(base);
  if (count > (size - COUNT_SIZE) / LENGTHS_SIZE) return 0;
  const wanted = changetype<usize>(name);
  const wantedLength = byteLengthOf(name);
  let lengths = base + COUNT_SIZE;
  const lengthsEnd = lengths + count * LENGTHS_SIZE;
  const end = base + size;
  let data = lengthsEnd;
  let found = 0;
  // The request path runs this on every header: only names of the wanted length are compared.
  while (lengths < lengthsEnd) {
    const nameLength = <usize>load<u32>(lengths);
    const valueLength = <usize>load<u32>(lengths, 4);
    lengths += LENGTHS_SIZE;
    const next = pairEnd(data, end, nameLength, valueLength);
    if (!next) return 0;
    if (nameLength == wantedLength && sameLettersAt(data, wanted, wantedLength)) {
      if (!found) {
        namedValue = data + nameLength + 1;
        namedValueLength = valueLength;
      }
      found++;
    }
    data = next;
  }
  return data == end ? found : 0;
}

/** Whether the `length` bytes at `a` spell `b`, ASCII letters in either case. */
export function equalIgnoringAsciiCase(a: usize, length: usize, b: ArrayBuffer): bool {
  return length == <usize>b.byteLength && sameLettersAt(a, changetype<usize>(b), length);
}

/** Whether the `length` bytes at `a` and at `b` are the same, ASCII letters in either case. */
// @ts-ignore: decorator
@inline function sameLettersAt(a: usize, b: usize, length: usize): bool {
  let i: usize = 0;
  // Header names are lower case in Envoy: four bytes at a time while they are the same bytes.
  while (i + 4 <= length && load<u32>(a + i) == load<u32>(b + i)) i += 4;
  for (; i < length; i++) {
    const x = <u32>load<u8>(a + i);
    const y = <u32>load<u8>(b + i);
    // Otherwise only the same letter in the other case: the two differ in bit 5 alone.
    if (x != y && ((x ^ y) != 0x20 || (x | 0x20) - 0x61 >= 26)) break;
  }
  return i == length;
}

/** The first pair's name in a buffer `pairCount` accepted; its length is `nameLengthAt(buffer, 0)`. */
// @ts-ignore: decorator
@inline export function firstName(buffer: ArrayBuffer, count: i32): usize {
  return changetype<usize>(buffer) + COUNT_SIZE + <usize>count * LENGTHS_SIZE;
}

/** Pair `i`'s name length. */
// @ts-ignore: decorator
@inline export function nameLengthAt(buffer: ArrayBuffer, i: i32): usize {
  return <usize>load<u32>(changetype<usize>(buffer) + COUNT_SIZE + (<usize>i << 3));
}

/** Pair `i`'s value length. */
// @ts-ignore: decorator
@inline export function valueLengthAt(buffer: ArrayBuffer, i: i32): usize {
  return <usize>load<u32>(changetype<usize>(buffer) + COUNT_SIZE + (<usize>i << 3), 4);
}

/** Decodes pairs. Anything malformed yields an empty list, as in Envoy. */
export function deserializePairs(buffer: ArrayBuffer): Header[] {
  const count = pairCount(buffer);
  const headers = new Array<Header>();
  let name = firstName(buffer, count);
  for (let i = 0; i < count; i++) {
    const nameLength = nameLengthAt(buffer, i);
    const valueLength = valueLengthAt(buffer, i);
    headers.push(Header.fromBytes(sliceOf(name, nameLength), sliceOf(name + nameLength + 1, valueLength)));
    name += nameLength + valueLength + 2;
  }
  return headers;
}

function sliceOf(pointer: usize, length: usize): ArrayBuffer {
  const slice = new ArrayBuffer(<i32>length);
  memory.copy(changetype<usize>(slice), pointer, length);
  return slice;
}
