import { decodeUtf8, encodeUtf8 } from "../../assembly/utf8";

function bytes(values: u8[]): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buffer) + i, values[i]);
  return buffer;
}

function hex(buffer: ArrayBuffer): string {
  const parts = new Array<string>();
  for (let i = 0; i < buffer.byteLength; i++) parts.push(load<u8>(changetype<usize>(buffer) + i).toString(16));
  return parts.join(" ");
}

describe("decodeUtf8", () => {
  it("decodes well-formed text of every length", () => {
    expect(decodeUtf8(bytes([0x31, 0x33]))).toBe("13");
    expect(decodeUtf8(bytes([0xc3, 0xbc]))).toBe("ü");
    expect(decodeUtf8(bytes([0xe2, 0x9c, 0x93]))).toBe("✓");
    expect(decodeUtf8(bytes([0xf0, 0x9f, 0x98, 0x80]))).toBe("😀");
    expect(decodeUtf8(new ArrayBuffer(0))).toBe("");
  });

  it("replaces stray and invalid bytes instead of dropping them", () => {
    expect(decodeUtf8(bytes([0x31, 0x33, 0xff]))).toBe("13\uFFFD");
    expect(decodeUtf8(bytes([0x31, 0x33, 0x80]))).toBe("13\uFFFD");
    expect(decodeUtf8(bytes([0xfe, 0xff]))).toBe("\uFFFD\uFFFD");
  });

  it("never decodes overlong forms to ASCII", () => {
    expect(decodeUtf8(bytes([0xc0, 0xb1, 0x33]))).toBe("\uFFFD\uFFFD3");
    expect(decodeUtf8(bytes([0xe0, 0x80, 0xb1, 0x33]))).toBe("\uFFFD\uFFFD\uFFFD3");
    expect(decodeUtf8(bytes([0xf0, 0x80, 0x80, 0xb1, 0x33]))).toBe("\uFFFD\uFFFD\uFFFD\uFFFD3");
    expect(decodeUtf8(bytes([0x31, 0xc0, 0xb3]))).toBe("1\uFFFD\uFFFD");
  });

  it("rejects surrogates and code points beyond U+10FFFF", () => {
    expect(decodeUtf8(bytes([0xed, 0xa0, 0x80]))).toBe("\uFFFD\uFFFD\uFFFD");
    expect(decodeUtf8(bytes([0xf4, 0x90, 0x80, 0x80]))).toBe("\uFFFD\uFFFD\uFFFD\uFFFD");
  });

  it("replaces a truncated sequence once, keeping the byte that interrupted it", () => {
    expect(decodeUtf8(bytes([0xe2, 0x9c]))).toBe("\uFFFD");
    expect(decodeUtf8(bytes([0xe2, 0x9c, 0x41]))).toBe("\uFFFDA");
    expect(decodeUtf8(bytes([0xf0, 0x9f, 0x98]))).toBe("\uFFFD");
    expect(decodeUtf8(bytes([0x41, 0xc3]))).toBe("A\uFFFD");
    expect(decodeUtf8(bytes([0xf0, 0x9f, 0x41]))).toBe("\uFFFDA");
    expect(decodeUtf8(bytes([0xe0, 0xa0]))).toBe("\uFFFD");
    expect(decodeUtf8(bytes([0xc3, 0xbc, 0x80]))).toBe("ü\uFFFD");
  });

  it("accepts each range's first and last second byte, and nothing beyond", () => {
    expect(decodeUtf8(bytes([0xc2, 0x80]))).toBe("\u0080");
    expect(decodeUtf8(bytes([0xc1, 0xbf]))).toBe("\uFFFD\uFFFD");
    expect(decodeUtf8(bytes([0xdf, 0xbf]))).toBe("\u07FF");
    expect(decodeUtf8(bytes([0xe0, 0xa0, 0x80]))).toBe("\u0800");
    expect(decodeUtf8(bytes([0xe0, 0x9f, 0xbf]))).toBe("\uFFFD\uFFFD\uFFFD");
    expect(decodeUtf8(bytes([0xed, 0x9f, 0xbf]))).toBe("\uD7FF");
    expect(decodeUtf8(bytes([0xed, 0xa0]))).toBe("\uFFFD\uFFFD");
    expect(decodeUtf8(bytes([0xee, 0x80, 0x80]))).toBe("\uE000");
    expect(decodeUtf8(bytes([0xef, 0xbf, 0xbf]))).toBe("\uFFFF");
    expect(decodeUtf8(bytes([0xf0, 0x90, 0x80, 0x80]))).toBe("\uD800\uDC00");
    expect(decodeUtf8(bytes([0xf0, 0x8f, 0xbf, 0xbf]))).toBe("\uFFFD\uFFFD\uFFFD\uFFFD");
    expect(decodeUtf8(bytes([0xf4, 0x8f, 0xbf, 0xbf]))).toBe("\uDBFF\uDFFF");
    expect(decodeUtf8(bytes([0xf5, 0x80, 0x80, 0x80]))).toBe("\uFFFD\uFFFD\uFFFD\uFFFD");
  });
});

describe("encodeUtf8", () => {
  it("encodes each sequence length up to its last code point", () => {
    expect(hex(encodeUtf8(""))).toBe("");
    expect(hex(encodeUtf8("\u007F"))).toBe("7f");
    expect(hex(encodeUtf8("\u0080"))).toBe("c2 80");
    expect(hex(encodeUtf8("\u07FF"))).toBe("df bf");
    expect(hex(encodeUtf8("\u0800"))).toBe("e0 a0 80");
    expect(hex(encodeUtf8("a✓b"))).toBe("61 e2 9c 93 62");
    expect(hex(encodeUtf8("\uFFFF"))).toBe("ef bf bf");
    expect(hex(encodeUtf8(String.fromCharCodes([0xd800, 0xdc00])))).toBe("f0 90 80 80");
    expect(hex(encodeUtf8("😀"))).toBe("f0 9f 98 80");
    expect(hex(encodeUtf8(String.fromCharCodes([0xdbff, 0xdfff])))).toBe("f4 8f bf bf");
  });

  it("encodes a lone surrogate as U+FFFD", () => {
    expect(hex(encodeUtf8(String.fromCharCodes([0x61, 0xd800])))).toBe("61 ef bf bd");
    expect(hex(encodeUtf8(String.fromCharCodes([0xd800, 0x61])))).toBe("ef bf bd 61");
    expect(hex(encodeUtf8(String.fromCharCodes([0xdc00, 0xd800])))).toBe("ef bf bd ef bf bd");
    expect(hex(encodeUtf8(String.fromCharCodes([0xdbff, 0xdbff, 0xdfff])))).toBe("ef bf bd f4 8f bf bf");
    expect(hex(encodeUtf8(String.fromCharCodes([0xdfff])))).toBe("ef bf bd");
  });
});
