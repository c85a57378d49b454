import { JsonKind, JsonValue, isJsonLike, parseJson } from "../../assembly/json";

function parse(text: string, maxDepth: i32 = 64): JsonValue {
  let result = parseJson(text, maxDepth);
  expect(result.error).toBe("", text);
  expect(result.ok).toBe(true);
  return result.value;
}

function errorOf(text: string, maxDepth: i32 = 64): string {
  let result = parseJson(text, maxDepth);
  expect(result.ok).toBe(false, text);
  expect(result.value.isNull()).toBe(true);
  return result.error;
}

describe("parseJson: documents", () => {
  it("reads nested objects and arrays", () => {
    let doc = parse(' {"a": {"b": [1, {"c": [true, false, null]}]}, "d": "", "e": [], "f": {}}\n');
    expect(doc.kind).toBe(JsonKind.Object);
    expect(doc.length).toBe(4);
    let b = doc.get("a")!.get("b")!;
    expect(b.kind).toBe(JsonKind.Array);
    expect(b.length).toBe(2);
    expect(b.at(0)!.asNumber()).toBe(1);
    let c = b.at(1)!.get("c")!;
    expect(c.at(0)!.asBool()).toBe(true);
    expect(c.at(1)!.kind).toBe(JsonKind.Bool);
    expect(c.at(1)!.asBool()).toBe(false);
    expect(c.at(2)!.isNull()).toBe(true);
    expect(doc.get("d")!.kind).toBe(JsonKind.String);
    expect(doc.get("e")!.length).toBe(0);
    expect(doc.get("f")!.kind).toBe(JsonKind.Object);
    expect(doc.get("missing")).toBeNull();
  });

  it("reads scalars at the top level", () => {
    expect(parse("42").asNumber()).toBe(42);
    expect(parse('"x"').asString()).toBe("x");
    expect(parse(" true ").asBool()).toBe(true);
    expect(parse("null").isNull()).toBe(true);
  });

  it("lists keys in document order and pairs them with at()", () => {
    let doc = parse('{"z": 1, "a": "two", "m": [3]}');
    let keys = doc.keys();
    expect(keys.length).toBe(3);
    expect(keys[0]).toBe("z");
    expect(keys[1]).toBe("a");
    expect(keys[2]).toBe("m");
    expect(doc.at(1)!.asString()).toBe("two");
    expect(doc.at(-1)).toBeNull();
    expect(doc.at(3)).toBeNull();
  });

  it("lets the last duplicate member win", () => {
    let doc = parse('{"a": 1, "b": 0, "a": 2}');
    expect(doc.get("a")!.asNumber()).toBe(2);
    expect(doc.length).toBe(3);
    expect(doc.keys().length).toBe(3);
  });
});

describe("parseJson: strings", () => {
  it("decodes every escape", () => {
    expect(parse('"\\"\\\\\\/\\b\\f\\n\\r\\t"').asString()).toBe("\"\\/\b\f\n\r\t");
    expect(parse('"a\\u0041\\u00e9\\u00E9\\u20AC"').asString()).toBe("aAéé€");
    expect(parse('"\\u0000"').asString().charCodeAt(0)).toBe(0);
  });

  it("joins surrogate pairs and keeps lone surrogates", () => {
    let pair = parse('"\\uD83D\\uDE00"').asString();
    expect(pair).toBe("😀");
    expect(pair.length).toBe(2);
    let lone = parse('"\\uD800x"').asString();
    expect(lone.length).toBe(2);
    expect(lone.charCodeAt(0)).toBe(0xD800);
  });

  it("passes non-ASCII text through", () => {
    expect(parse('"héllo 😀 日本"').asString()).toBe("héllo 😀 日本");
    expect(parse('{"ключ": 1}').get("ключ")!.asNumber()).toBe(1);
  });

  it("decodes escapes in member names", () => {
    expect(parse('{"a\\u0062": true}').get("ab")!.asBool()).toBe(true);
  });
});

describe("parseJson: numbers", () => {
  it("reads -0 as negative zero and as the integer 0", () => {
    let zero = parse("-0");
    expect(zero.asNumber()).toBe(0);
    expect(1 / zero.asNumber()).toBe(-Infinity);
    expect(zero.isInteger()).toBe(true);
    expect(zero.asI64()).toBe(0);
    expect(zero.isU64()).toBe(true);
  });

  it("reads fractions and exponents", () => {
    expect(parse("1e300").asNumber()).toBe(1e300);
    expect(parse("1E+2").asNumber()).toBe(100);
    expect(parse("-1.25e-3").asNumber()).toBe(-0.00125);
    expect(parse("0.1").asNumber()).toBe(0.1);
    expect(parse("1e300").numberText()).toBe("1e300");
    expect(parse("1.0").isInteger()).toBe(false);
    expect(parse("1e3").isInteger()).toBe(false);
  });

  it("converts long and extreme numbers", () => {
    // std's parseFloat is off by 1e15 on this one.
    expect(parse("3.0794365474959995e52").asNumber()).toBe(3.0794365474959995e52);
    expect(parse("123456789012345678901234567890").asNumber()).toBe(1.2345678901234568e29);
    expect(parse("1.7976931348623157e308").asNumber()).toBe(f64.MAX_VALUE);
    expect(parse("5e-324").asNumber()).toBe(f64.MIN_VALUE);
    expect(parse("1e400").asNumber()).toBe(Infinity);
    expect(parse("-1e400").asNumber()).toBe(-Infinity);
    expect(parse("1e-400").asNumber()).toBe(0);
    expect(parse("0.000000000000000000000000000001e30").asNumber()).toBe(1);
    expect(parse("1e99999999999999999999").asNumber()).toBe(Infinity);
  });

  it("reads integers at the u64 and i64 limits exactly", () => {
    let max = parse("18446744073709551615");
    expect(max.isU64()).toBe(true);
    expect(max.asU64()).toBe(u64.MAX_VALUE);
    expect(max.isI64()).toBe(false);
    expect(max.asI64()).toBe(0);
    expect(max.isInteger()).toBe(true);

    let past = parse("18446744073709551616");
    expect(past.isInteger()).toBe(false);
    expect(past.asU64()).toBe(0);
    expect(past.asNumber()).toBe(18446744073709551616.0);

    let min = parse("-9223372036854775808");
    expect(min.isI64()).toBe(true);
    expect(min.asI64()).toBe(i64.MIN_VALUE);
    expect(min.isU64()).toBe(false);
    expect(parse("-9223372036854775809").isInteger()).toBe(false);

    expect(parse("9223372036854775807").asI64()).toBe(i64.MAX_VALUE);
    let big = parse("9223372036854775808");
    expect(big.isI64()).toBe(false);
    expect(big.asU64()).toBe(9223372036854775808);
  });
});

describe("parseJson: wrong-kind access", () => {
  it("returns neutral values instead of trapping", () => {
    let n = parse("7");
    expect(n.asString()).toBe("");
    expect(n.asBool()).toBe(false);
    expect(n.length).toBe(0);
    expect(n.at(0)).toBeNull();
    expect(n.get("a")).toBeNull();
    expect(n.keys().length).toBe(0);
    let s = parse('"7"');
    expect(s.asNumber()).toBe(0);
    expect(s.isInteger()).toBe(false);
    expect(s.numberText()).toBe("");
    expect(parse("[1]").get("0")).toBeNull();
  });

  it("reads config with fallbacks", () => {
    let config = parse('{"name": "x-id", "limit": 5, "on": true, "bad": "5"}');
    expect(config.getString("name", "default")).toBe("x-id");
    expect(config.getString("limit", "default")).toBe("default");
    expect(config.getString("missing")).toBe("");
    expect(config.getNumber("limit", 1)).toBe(5);
    expect(config.getNumber("bad", 1)).toBe(1);
    expect(config.getBool("on")).toBe(true);
    expect(config.getBool("name", true)).toBe(true);
    expect(parse("[]").getString("name", "none")).toBe("none");
  });
});

describe("parseJson: rejections", () => {
  it("rejects empty and truncated input", () => {
    expect(errorOf("")).toBe("unexpected end at 0");
    expect(errorOf("  ")).toBe("unexpected end at 2");
    expect(errorOf("[")).toBe("unexpected end at 1");
    expect(errorOf("[1")).toBe("expected ',' or ']' at 2");
    expect(errorOf("{")).toBe("expected string at 1");
    expect(errorOf('{"a"')).toBe("expected ':' at 4");
    expect(errorOf('{"a":')).toBe("unexpected end at 5");
    expect(errorOf('"abc')).toBe("unterminated string at 4");
  });

  it("rejects bad structure", () => {
    expect(errorOf('{"a" 1}')).toBe("expected ':' at 5");
    expect(errorOf('{"a": 1 "b": 2}')).toBe("expected ',' or '}' at 8");
    expect(errorOf("[1 2]")).toBe("expected ',' or ']' at 3");
    expect(errorOf("{'a': 1}")).toBe("expected string at 1");
    expect(errorOf("{a: 1}")).toBe("expected string at 1");
    expect(errorOf("[1}")).toBe("expected ',' or ']' at 2");
  });

  it("rejects trailing commas", () => {
    expect(errorOf("[1,]")).toBe("unexpected character at 3");
    expect(errorOf('{"a": 1,}')).toBe("expected string at 8");
    expect(errorOf("[,]")).toBe("unexpected character at 1");
  });

  it("rejects trailing garbage", () => {
    expect(errorOf("1 2")).toBe("trailing characters at 2");
    expect(errorOf("{}x")).toBe("trailing characters at 2");
    expect(errorOf("[] ]")).toBe("trailing characters at 3");
    expect(errorOf("truex")).toBe("trailing characters at 4");
  });

  it("rejects malformed numbers", () => {
    expect(errorOf("01")).toBe("leading zero at 0");
    expect(errorOf("[-00]")).toBe("leading zero at 2");
    expect(errorOf("-")).toBe("expected digit at 1");
    expect(errorOf("1.")).toBe("expected digit at 2");
    expect(errorOf("1.e5")).toBe("expected digit at 2");
    expect(errorOf("1e")).toBe("expected digit at 2");
    expect(errorOf("1e+")).toBe("expected digit at 3");
    expect(errorOf(".5")).toBe("unexpected character at 0");
    expect(errorOf("+1")).toBe("unexpected character at 0");
    expect(errorOf("NaN")).toBe("unexpected character at 0");
    expect(errorOf("-Infinity")).toBe("expected digit at 1");
    expect(errorOf("0x10")).toBe("trailing characters at 1");
  });

  it("rejects bad literals", () => {
    expect(errorOf("tru")).toBe("invalid literal at 0");
    expect(errorOf("[nul]")).toBe("invalid literal at 1");
    expect(errorOf("True")).toBe("unexpected character at 0");
  });

  it("rejects unescaped control characters and bad escapes", () => {
    expect(errorOf('"a\u0001b"')).toBe("control character at 2");
    expect(errorOf('"a\tb"')).toBe("control character at 2");
    expect(errorOf('"a\nb"')).toBe("control character at 2");
    expect(errorOf('"\\x"')).toBe("invalid escape at 1");
    expect(errorOf('"\\u12G4"')).toBe("invalid escape at 1");
    expect(errorOf('"\\u12"')).toBe("invalid escape at 1");
    expect(errorOf('"\\')).toBe("invalid escape at 1");
    expect(errorOf("\"\\'\"")).toBe("invalid escape at 1");
  });
});

describe("parseJson: depth", () => {
  it("accepts exactly maxDepth levels", () => {
    let doc = parse("[".repeat(64) + "]".repeat(64));
    expect(doc.kind).toBe(JsonKind.Array);
    expect(parse('{"a": [{"b": 1}]}', 3).get("a")!.at(0)!.get("b")!.asNumber()).toBe(1);
    expect(parse("1", 0).asNumber()).toBe(1);
  });

  it("rejects one level more", () => {
    expect(errorOf("[".repeat(65) + "]".repeat(65))).toBe("nesting too deep at 64");
    expect(errorOf('{"a": [{"b": 1}]}', 2)).toBe("nesting too deep at 7");
    expect(errorOf("[]", 0)).toBe("nesting too deep at 0");
  });

  it("stops hostile nesting early", () => {
    expect(errorOf("[".repeat(1000000))).toBe("nesting too deep at 64");
  });

  it("parses deep documents without recursion", () => {
    let depth = 100000;
    let doc = parse("[".repeat(depth) + "]".repeat(depth), depth);
    let levels = 1;
    let inner = doc.at(0);
    while (inner) {
      levels++;
      inner = inner.at(0);
    }
    expect(levels).toBe(depth);
  });
});

describe("isJsonLike", () => {
  it("looks only at the first non-blank character", () => {
    expect(isJsonLike("{")).toBe(true);
    expect(isJsonLike(" \n\t[1]")).toBe(true);
    expect(isJsonLike("{ not json")).toBe(true);
    expect(isJsonLike("")).toBe(false);
    expect(isJsonLike("   ")).toBe(false);
    expect(isJsonLike("x-header: 1")).toBe(false);
    expect(isJsonLike('"quoted"')).toBe(false);
    expect(isJsonLike("42")).toBe(false);
  });
});
