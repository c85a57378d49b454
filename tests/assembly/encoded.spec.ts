import { encodeCached } from "../../assembly/runtime/encoded";
import { encodeUtf8 } from "../../assembly/utf8";

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) {
    if (load<u8>(changetype<usize>(a) + i) != load<u8>(changetype<usize>(b) + i)) return false;
  }
  return true;
}

describe("encodeCached", () => {
  it("encodes a constant once and hands the same bytes out again", () => {
    const first = encodeCached("x-token");
    expect(sameBytes(first, encodeUtf8("x-token"))).toBe(true);
    expect(changetype<usize>(encodeCached("x-token"))).toBe(changetype<usize>(first));
    expect(encodeCached("").byteLength).toBe(0);
  });

  it("gives every string its own bytes, whatever slot it shares", () => {
    const texts = new Array<string>();
    for (let i = 0; i < 100; i++) texts.push("name-" + i.toString() + "-ü");
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < texts.length; i++) {
        expect(sameBytes(encodeCached(texts[i]), encodeUtf8(texts[i]))).toBe(true);
      }
    }
    expect(sameBytes(encodeCached("accept"), encodeUtf8("accept"))).toBe(true);
  });

  it("encodes a long string built at run time on every call, without keeping it", () => {
    const long = "v".repeat(200);
    const first = encodeCached(long);
    expect(sameBytes(first, encodeUtf8(long))).toBe(true);
    expect(changetype<usize>(encodeCached(long))).not.toBe(changetype<usize>(first));
  });
});
