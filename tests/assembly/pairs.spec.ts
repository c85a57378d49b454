import { countNamed, deserializePairs, Header, namedValue, namedValueLength, serializePairs } from "../../assembly/pairs";

function bytes(values: u8[]): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buffer) + i, values[i]);
  return buffer;
}

function toArray(buffer: ArrayBuffer): u8[] {
  const values = new Array<u8>(buffer.byteLength);
  for (let i = 0; i < buffer.byteLength; i++) values[i] = load<u8>(changetype<usize>(buffer) + i);
  return values;
}

// {a: "1", b: "22"} in the ABI's layout: count, the lengths, then NUL-terminated names and values.
const AB_PAIRS: u8[] = [
  2, 0, 0, 0,
  1, 0, 0, 0, 1, 0, 0, 0,
  1, 0, 0, 0, 2, 0, 0, 0,
  0x61, 0, 0x31, 0,
  0x62, 0, 0x32, 0x32, 0,
];

describe("serializePairs", () => {
  it("writes the exact ABI byte layout", () => {
    const encoded = serializePairs([new Header("a", "1"), new Header("b", "22")]);
    expect(toArray(encoded)).toStrictEqual(AB_PAIRS);
  });

  it("writes an empty list as a zero count", () => {
    expect(toArray(serializePairs([]))).toStrictEqual([0, 0, 0, 0]);
  });

  it("keeps empty names and values and multi-byte UTF-8", () => {
    const decoded = deserializePairs(serializePairs([new Header("", ""), new Header("x-ü", "✓ ok")]));
    expect(decoded.length).toBe(2);
    expect(decoded[0].name).toBe("");
    expect(decoded[0].value).toBe("");
    expect(decoded[1].name).toBe("x-ü");
    expect(decoded[1].value).toBe("✓ ok");
  });
});

describe("deserializePairs", () => {
  it("reads the ABI layout", () => {
    const decoded = deserializePairs(bytes(AB_PAIRS));
    expect(decoded.length).toBe(2);
    expect(decoded[0].name).toBe("a");
    expect(decoded[1].value).toBe("22");
  });

  it("keeps values that are not UTF-8 as bytes", () => {
    const decoded = deserializePairs(bytes([1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x6b, 0, 0xff, 0xfe, 0]));
    expect(decoded.length).toBe(1);
    expect(toArray(decoded[0].valueBytes)).toStrictEqual([0xff, 0xfe]);
  });

  it("reads an empty buffer and a zero count as no headers", () => {
    expect(deserializePairs(new ArrayBuffer(0)).length).toBe(0);
    expect(deserializePairs(bytes([0, 0, 0, 0])).length).toBe(0);
  });

  it("rejects a missing NUL terminator", () => {
    const broken = AB_PAIRS.slice(0);
    broken[23] = 0x20;
    expect(deserializePairs(bytes(broken)).length).toBe(0);
  });

  it("rejects a truncated buffer and trailing bytes", () => {
    expect(deserializePairs(bytes(AB_PAIRS.slice(0, AB_PAIRS.length - 1))).length).toBe(0);
    const longer = AB_PAIRS.slice(0);
    longer.push(0);
    expect(deserializePairs(bytes(longer)).length).toBe(0);
  });

  it("rejects counts and lengths that overflow without reading out of bounds", () => {
    expect(deserializePairs(bytes([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0])).length).toBe(0);
    expect(deserializePairs(bytes([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0])).length).toBe(0);
    expect(deserializePairs(bytes([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0])).length).toBe(0);
  });
});

function named(buffer: ArrayBuffer, name: string): i32 {
  return countNamed(buffer, String.UTF8.encode(name));
}

describe("countNamed", () => {
  it("counts a name's pairs without regard to ASCII case and leaves the first value", () => {
    const map = serializePairs([new Header("a", "1"), new Header("x-token", "first"), new Header("b", "22"), new Header("X-Token", "second")]);
    expect(named(map, "x-token")).toBe(2);
    expect(String.UTF8.decodeUnsafe(namedValue, namedValueLength)).toBe("first");
    expect(named(map, "B")).toBe(1);
    expect(String.UTF8.decodeUnsafe(namedValue, namedValueLength)).toBe("22");
    expect(named(map, "c")).toBe(0);
    expect(named(map, "x-toke")).toBe(0);
    expect(named(map, "")).toBe(0);
  });

  it("folds the case of letters only", () => {
    const odd = serializePairs([new Header("x@[", "1")]);
    expect(named(odd, "X@[")).toBe(1);
    expect(named(odd, "x`[")).toBe(0); // 0x40 and 0x60 differ in bit 5 only, as do [ and {
    expect(named(odd, "x@{")).toBe(0);
  });

  it("finds nothing in a malformed buffer, as pairCount refuses it", () => {
    expect(named(new ArrayBuffer(0), "a")).toBe(0);
    const broken = AB_PAIRS.slice(0);
    broken[23] = 0x20;
    expect(named(bytes(broken), "a")).toBe(0);
    expect(named(bytes(AB_PAIRS.slice(0, AB_PAIRS.length - 1)), "a")).toBe(0);
    const longer = AB_PAIRS.slice(0);
    longer.push(0);
    expect(named(bytes(longer), "a")).toBe(0);
    expect(named(bytes(AB_PAIRS), "a")).toBe(1);
    expect(named(bytes([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]), "a")).toBe(0);
    expect(named(bytes([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0]), "a")).toBe(0);
    expect(named(bytes([1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0]), "")).toBe(0);
  });
});
