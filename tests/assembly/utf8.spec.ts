import { decodeUtf8 } from "../../assembly/utf8";

function bytes(values: u8[]): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(buffer) + i, values[i]);
  return buffer;
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
  });
});
