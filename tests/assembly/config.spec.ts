// The typed configuration reader's runtime half, driven by hand the way the code the transform generates for a
// @configuration class drives it (tests/transform/configuration.test.ts covers the generated code), and the
// JsonValue accessors that report a wrong kind instead of defaulting.
import { ConfigurationReader, NON_EMPTY, Utf8Line } from "../../assembly/config/reader";
import { FieldStatus, JsonValue, parseJson } from "../../assembly/json";
import { staticUtf8 } from "../../assembly/runtime/strings";

function reader(text: string): ConfigurationReader {
  return new ConfigurationReader(parseJson(text).value);
}

/** A text as the generated code passes it (the transform writes it as static data; here it is encoded). */
function line(text: string): Utf8Line {
  return staticUtf8(text + "\n");
}

/** The value of the first member named `key` of the object being read, as the generated walk meets it. */
function valueOf(r: ConfigurationReader, key: string): JsonValue {
  let member = r.first();
  while (member) {
    if (r.is(member.name, key)) return member.value;
    member = member.next;
  }
  throw new Error("no member " + key);
}

describe("ConfigurationReader", () => {
  it("walks the members in document order and reads each kind", () => {
    const r = reader('{"name": "x", "on": true, "port": 8080, "ratio": 0.5, "keys": ["a", "b"]}');
    let names = "";
    let member = r.first();
    while (member) {
      names += member.name + " ";
      member = member.next;
    }
    expect(names).toBe("name on port ratio keys ");
    expect(r.string("name", valueOf(r, "name"), 0, line("a string"))).toBe("x");
    expect(r.bool("on", valueOf(r, "on"), 0, line("true or false"))).toBe(true);
    expect(r.integer("port", valueOf(r, "port"), 0, line("an integer from 0 to 65535"), 0, 65535)).toBe(8080);
    expect(r.float("ratio", valueOf(r, "ratio"), 0, line("a number"), -f64.MAX_VALUE, f64.MAX_VALUE)).toBe(0.5);
    const keys = r.strings("keys", valueOf(r, "keys"), 0, line("an array of strings"));
    expect(keys.length).toBe(2);
    expect(keys[1]).toBe("b");
    expect(r.error).toBe("");
  });

  it("names a missing required field and what it expects", () => {
    const r = reader("{}");
    r.missing("cluster", line("a non-empty string"));
    expect(r.error).toBe("cluster: missing (required: a non-empty string)");
  });

  it("refuses a wrong kind instead of defaulting: the issue's {\"keys\": [1, 2]}", () => {
    const r = reader('{"keys": ["a", 2]}');
    r.strings("keys", valueOf(r, "keys"), 0, line("an array of strings"));
    expect(r.error).toBe("keys[1]: expected a string, got 2");
    const empty = reader('{"name": ""}');
    empty.string("name", valueOf(empty, "name"), NON_EMPTY, line("a non-empty string"));
    expect(empty.error).toBe("name: expected a non-empty string, got an empty string");
  });

  it("refuses integers out of range, fractions and integers too large for 64 bits", () => {
    expect(readInteger('{"n": 0}')).toBe("n: expected an integer from 1 to 10, got 0");
    expect(readInteger('{"n": 11}')).toBe("n: expected an integer from 1 to 10, got 11");
    expect(readInteger('{"n": 2.5}')).toBe("n: expected an integer from 1 to 10, got 2.5");
    expect(readInteger('{"n": 1e1}')).toBe("n: expected an integer from 1 to 10, got 1e1");
    expect(readInteger('{"n": 99999999999999999999}')).toBe("n: expected an integer from 1 to 10, got 99999999999999999999");
    expect(readInteger('{"n": 10}')).toBe("");
    const r = reader('{"big": 18446744073709551615}');
    expect(r.unsigned("big", valueOf(r, "big"), 0, line("an integer from 0 to 18446744073709551615"), 0, u64.MAX_VALUE)).toBe(u64.MAX_VALUE);
    expect(r.error).toBe("");
  });

  it("refuses unknown and repeated fields", () => {
    const unknown = reader('{"nmae": "y"}');
    unknown.unknown("nmae", line("name, value"));
    expect(unknown.error).toBe("nmae: unknown field (expected one of: name, value)");
    const twice = reader('{"name": "x", "name": "y"}');
    twice.twice("name");
    expect(twice.error).toBe("name: given more than once");
  });

  it("names the path of a nested field, and keeps only the first problem", () => {
    const r = reader('{"upstream": {"timeoutMs": "soon"}, "name": 1}');
    const outer = r.prefix;
    expect(r.enter("upstream", valueOf(r, "upstream"))).toBe(true);
    r.integer("timeoutMs", valueOf(r, "timeoutMs"), 0, line("an integer from 1 to 60000"), 1, 60000);
    r.prefix = outer;
    r.string("name", JsonValue.newNumber("1"), 0, line("a string"));
    expect(r.error).toBe("upstream.timeoutMs: expected an integer from 1 to 60000, got a string");
  });

  it("reads an absent nested object as {}, and refuses one that is not an object", () => {
    const absent = reader("{}");
    expect(absent.enter("upstream", null)).toBe(true);
    absent.missing("cluster", line("a string"));
    expect(absent.error).toBe("upstream.cluster: missing (required: a string)");
    const r = reader('{"upstream": [1]}');
    expect(r.enter("upstream", valueOf(r, "upstream"))).toBe(false);
    expect(r.error).toBe("upstream: expected an object, got an array");
  });
});

function readInteger(text: string): string {
  const r = reader(text);
  r.integer("n", valueOf(r, "n"), 0, line("an integer from 1 to 10"), 1, 10);
  return r.error;
}

describe("JsonValue: has and typed reads", () => {
  it("has tells a member set to null from an absent one", () => {
    const json = parseJson('{"a": null}').value;
    expect(json.has("a")).toBe(true);
    expect(json.has("b")).toBe(false);
    expect(JsonValue.newArray().has("a")).toBe(false);
  });

  it("reads each kind, and says what is wrong instead of defaulting", () => {
    const json = parseJson('{"s": "x", "n": 1.5, "i": -7, "b": true, "keys": [1, 2]}').value;
    expect(json.readString("s").value).toBe("x");
    expect(json.readNumber("n").value).toBe(1.5);
    expect(json.readInteger("i").value).toBe(-7);
    expect(json.readBool("b").value).toBe(true);
    const keys = json.readString("keys");
    expect(keys.ok).toBe(false);
    expect(keys.status).toBe(FieldStatus.WrongKind);
    expect(keys.error).toBe("keys: expected a string, got an array");
    const missing = json.readNumber("m");
    expect(missing.status).toBe(FieldStatus.Missing);
    expect(missing.error).toBe("m: missing, expected a number");
    expect(json.readInteger("n").error).toBe("n: expected an integer, got 1.5");
    expect(json.readBool("s").error).toBe("s: expected true or false, got a string");
  });
});
