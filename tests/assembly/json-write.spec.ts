import { JsonKind, JsonValue, parseJson } from "../../assembly/json";

function parse(text: string, maxDepth: i32 = 64): JsonValue {
  let result = parseJson(text, maxDepth);
  expect(result.error).toBe("", text);
  return result.value;
}

/** parse → toString must give `text` back byte for byte. */
function roundTrips(text: string): void {
  expect(parse(text).toString()).toBe(text);
}

/** True if `a` and `b` hold the same JSON, member order and duplicates included. */
function same(a: JsonValue, b: JsonValue): bool {
  if (a.kind != b.kind || a.length != b.length) return false;
  if (a.kind == JsonKind.String) return a.asString() == b.asString();
  if (a.kind == JsonKind.Number) return a.numberText() == b.numberText();
  if (a.kind == JsonKind.Bool) return a.asBool() == b.asBool();
  for (let i = 0; i < a.length; ++i) {
    if (a.keyAt(i) != b.keyAt(i) || !same(a.at(i)!, b.at(i)!)) return false;
  }
  return true;
}

describe("toString: round trips", () => {
  it("writes canonical documents back unchanged", () => {
    roundTrips('{"a":{"b":[1,{"c":[true,false,null]}]},"d":"","e":[],"f":{}}');
    roundTrips('[-0,0.5,1e300,-1.25E-3,18446744073709551616,123456789012345678901234567890]');
    roundTrips('{"a":1,"b":0,"a":2}');
    roundTrips('"héllo 😀 日本"');
    roundTrips('{"ключ":"значение"}');
    roundTrips('"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f"');
    roundTrips("null");
    roundTrips("[[[]],{}]");
  });

  it("compacts whitespace and normalizes escapes", () => {
    let doc = parse(' { "a" : [ 1 , 2 ] ,\n\t"b" : "\\u0041\\/\\u00e9\\uD83D\\uDE00" } ');
    expect(doc.toString()).toBe('{"a":[1,2],"b":"A/é😀"}');
  });

  it("reads back what it writes", () => {
    let text = '{"s":"\\u0001\\ud800x\\"","n":[-1.5e-7,0,1E+2],"o":{"k\\n":{"":[null]}},"a":[{},[]]}';
    let doc = parse(text);
    let again = parse(doc.toString());
    expect(same(doc, again)).toBe(true);
    expect(again.toString()).toBe(doc.toString());
  });

  it("writes member names from keyAt and values from at", () => {
    let doc = parse('{"x":1,"y":[2]}');
    expect(doc.keyAt(1)).toBe("y");
    expect(doc.keyAt(2)).toBe("");
    expect(doc.keyAt(-1)).toBe("");
    expect(parse("[1]").keyAt(0)).toBe("");
  });
});

describe("toString: hostile strings", () => {
  it("escapes every control character", () => {
    let raw = "";
    for (let c = 0; c < 0x20; ++c) raw += String.fromCharCode(c);
    raw += "\x7F";
    let text = JsonValue.newString(raw).toString();
    expect(text).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
      '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\x7F"'
    );
    expect(parse(text).asString()).toBe(raw);
  });

  it("escapes quotes and backslashes but not slashes", () => {
    let text = JsonValue.newString('a"b\\c/d').toString();
    expect(text).toBe('"a\\"b\\\\c/d"');
    expect(parse(text).asString()).toBe('a"b\\c/d');
  });

  it("keeps lone surrogates as escapes and pairs as they are", () => {
    let lone = String.fromCharCode(0xD800) + "x" + String.fromCharCode(0xDFFF) + String.fromCharCode(0xDBFF);
    let text = JsonValue.newString(lone).toString();
    expect(text).toBe('"\\ud800x\\udfff\\udbff"');
    let back = parse(text).asString();
    expect(back).toBe(lone);
    expect(JsonValue.newString("😀").toString()).toBe('"😀"');
    expect(parse('"\\uDBFF\\uDFFF"').toString().length).toBe(4); // a valid pair is written raw
  });

  it("escapes member names too", () => {
    let doc = JsonValue.newObject();
    doc.set('"\n', JsonValue.newNull());
    expect(doc.toString()).toBe('{"\\"\\n":null}');
  });
});

describe("toString: deep nesting", () => {
  it("writes a document deeper than the wasm stack allows for recursion", () => {
    let depth = 100000;
    let text = "[".repeat(depth) + "]".repeat(depth);
    expect(parse(text, depth).toString()).toBe(text);
    let objects = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    expect(parse(objects, depth).toString()).toBe(objects);
  });
});

describe("mutation", () => {
  it("replaces the last member with a name, or appends", () => {
    let doc = parse('{"a":1,"b":2,"a":3}');
    doc.set("a", JsonValue.newString("x"));
    doc.set("c", JsonValue.newBool(true));
    expect(doc.toString()).toBe('{"a":1,"b":2,"a":"x","c":true}');
    expect(doc.get("a")!.asString()).toBe("x");
  });

  it("appends duplicates only when asked", () => {
    let doc = JsonValue.newObject();
    doc.append("a", JsonValue.fromI64(1));
    doc.append("a", JsonValue.fromI64(2));
    expect(doc.toString()).toBe('{"a":1,"a":2}');
  });

  it("removes every member with a name", () => {
    let doc = parse('{"a":1,"b":2,"a":3,"c":[4]}');
    expect(doc.remove("a")).toBe(true);
    expect(doc.toString()).toBe('{"b":2,"c":[4]}');
    expect(doc.get("a")).toBeNull();
    expect(doc.length).toBe(2);
    expect(doc.keys().length).toBe(2);
    expect(doc.remove("a")).toBe(false);
    expect(doc.remove("b")).toBe(true);
    expect(doc.remove("c")).toBe(true);
    expect(doc.toString()).toBe("{}");
  });

  it("pushes array elements", () => {
    let list = parse("[1]");
    list.push(JsonValue.newArray());
    list.push(JsonValue.newString("s"));
    expect(list.toString()).toBe('[1,[],"s"]');
    expect(list.length).toBe(3);
  });

  it("indexes members again after each change", () => {
    let doc = parse('{"a":1,"b":2}');
    expect(doc.keyAt(1)).toBe("b");
    doc.append("c", JsonValue.fromI64(3));
    expect(doc.keyAt(2)).toBe("c");
    expect(doc.at(2)!.asI64()).toBe(3);
    doc.remove("a");
    expect(doc.keyAt(0)).toBe("b");
    expect(doc.at(1)!.asI64()).toBe(3);
    expect(doc.at(2)).toBeNull();
    doc.set("b", JsonValue.newNull());
    expect(doc.at(0)!.isNull()).toBe(true);
  });

  it("shares a value between documents without changing either's members", () => {
    let from = parse('{"a":[1],"b":2}');
    let to = parse('{"x":0}');
    to.set("y", from.get("a")!);
    to.append("z", from.get("b")!);
    expect(from.toString()).toBe('{"a":[1],"b":2}');
    expect(to.toString()).toBe('{"x":0,"y":[1],"z":2}');
    let list = JsonValue.newArray();
    let same = JsonValue.newString("s");
    list.push(same);
    list.push(same);
    expect(list.toString()).toBe('["s","s"]');
  });

  it("rewrites one top-level field of a body", () => {
    let body = parse('{"user": {"id": 7, "name": "ann"}, "token": "secret", "n": 1.50}');
    body.set("token", JsonValue.newString("***"));
    expect(body.toString()).toBe('{"user":{"id":7,"name":"ann"},"token":"***","n":1.50}');
  });

  it("ignores mutators on the wrong kind", () => {
    let list = parse("[1]");
    list.set("a", JsonValue.newNull());
    list.append("a", JsonValue.newNull());
    expect(list.remove("a")).toBe(false);
    expect(list.toString()).toBe("[1]");
    let object = parse('{"a":1}');
    object.push(JsonValue.newNull());
    expect(object.toString()).toBe('{"a":1}');
    let scalar = JsonValue.newString("s");
    scalar.set("a", JsonValue.newNull());
    scalar.push(JsonValue.newNull());
    expect(scalar.toString()).toBe('"s"');
  });

  it("builds documents from scratch", () => {
    let list = JsonValue.newArray();
    list.push(JsonValue.newBool(false));
    let doc = JsonValue.newObject();
    doc.append("a", JsonValue.newNull());
    doc.set("b", list);
    expect(doc.toString()).toBe('{"a":null,"b":[false]}');
    expect(JsonValue.newNumber("-1.5e3").toString()).toBe("-1.5e3");
  });
});

describe("number factories", () => {
  it("writes 64-bit integers exactly", () => {
    let min = JsonValue.fromI64(i64.MIN_VALUE);
    expect(min.toString()).toBe("-9223372036854775808");
    expect(min.asI64()).toBe(i64.MIN_VALUE);
    expect(JsonValue.fromI64(0).toString()).toBe("0");
    let max = JsonValue.fromU64(u64.MAX_VALUE);
    expect(max.toString()).toBe("18446744073709551615");
    expect(max.asU64()).toBe(u64.MAX_VALUE);
    expect(max.kind).toBe(JsonKind.Number);
  });

  it("writes finite f64 values in a form that reads back exactly", () => {
    expect(JsonValue.fromF64(0.1).toString()).toBe("0.1");
    expect(JsonValue.fromF64(-2.5).toString()).toBe("-2.5");
    expect(JsonValue.fromF64(5).toString()).toBe("5.0");
    expect(JsonValue.fromF64(1e21).toString()).toBe("1e+21");
    let values: f64[] = [0.1, 1 / 3, 1e21, 1e-7, 5e-324, f64.MAX_VALUE, -123.456, 0];
    for (let i = 0; i < values.length; ++i) {
      let text = JsonValue.fromF64(values[i]).toString();
      expect(parse(text).asNumber()).toBe(values[i], text);
    }
  });

  it("writes null for NaN and infinities", () => {
    expect(JsonValue.fromF64(NaN).toString()).toBe("null");
    expect(JsonValue.fromF64(Infinity).isNull()).toBe(true);
    expect(JsonValue.fromF64(-Infinity).toString()).toBe("null");
  });
});
