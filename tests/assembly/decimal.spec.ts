import { parseDecimalU64At } from "../../assembly/decimal";

/** `text` parsed from its UTF-8 bytes, 1 when refused (none of the accepted cases below is 1). */
function parsed(text: string): u64 {
  const bytes = String.UTF8.encode(text);
  return parseDecimalU64At(changetype<usize>(bytes), <usize>bytes.byteLength, 1);
}

describe("parseDecimalU64At", () => {
  it("reads plain digits, leading zeros included", () => {
    expect(parsed("0")).toBe(0);
    expect(parsed("007")).toBe(7);
    expect(parsed("7917")).toBe(7917);
    expect(parsed("18446744073709551615")).toBe(u64.MAX_VALUE);
  });

  it("refuses anything but digits", () => {
    for (let i = 0, cases = ["", "-5", "+5", " 5", "5 ", "1e3", "0x10", "1.0", "\uFF15", "\u0663", "5\0"]; i < cases.length; i++) {
      expect(parsed(cases[i])).toBe(1, cases[i]);
    }
  });

  it("refuses values past u64, also where they would wrap around", () => {
    expect(parsed("18446744073709551616")).toBe(1); // 2^64
    expect(parsed("18446744073709551623")).toBe(1); // 2^64 + 7
    expect(parsed("99999999999999999999")).toBe(1);
  });

  it("checks for overflow from the 20th digit on, leading zeros included", () => {
    expect(parsed("9999999999999999999")).toBe(9999999999999999999); // 19 digits: never past u64
    expect(parsed("10000000000000000000")).toBe(10000000000000000000);
    expect(parsed("000000000000000000018446744073709551615")).toBe(u64.MAX_VALUE);
    expect(parsed("000000000000000000018446744073709551616")).toBe(1);
    expect(parsed("184467440737095516150")).toBe(1);
    expect(parsed("1844674407370955161x")).toBe(1); // a bad byte past the 19th
  });

  it("reads only its `length` bytes", () => {
    const bytes = String.UTF8.encode("12345");
    expect(parseDecimalU64At(changetype<usize>(bytes), 3, 1)).toBe(123);
    expect(parseDecimalU64At(changetype<usize>(bytes), 0, 9)).toBe(9);
  });

  it("handles 100000-digit input", () => {
    expect(parsed("1".repeat(100000))).toBe(1);
    expect(parsed("0".repeat(100000) + "42")).toBe(42);
  });
});
