// The typed configuration reader's runtime half, driven by hand the way the code the transform generates for a
// @configuration class drives it (tests/transform/configuration.test.ts covers the generated code), and the
// JsonValue accessors that report a wrong kind instead of defaulting.
import { ConfigurationReader, NON_EMPTY } from "../../assembly/config/reader";
import { FieldStatus, JsonValue, parseJson } from "../../assembly/json";

function reader(text: string): ConfigurationReader {
  return new ConfigurationReader(parseJson(text).value);
}

describe("ConfigurationReader", () => {
  it("reads present fields and keeps the defaults of absent ones", () => {
    const r = reader('{"name": "x", "on": true, "port": 8080, "ratio": 0.5, "keys": ["a", "b"]}');
    expect(r.string("name", "d", 0, "a string")).toBe("x");
    expect(r.string("other", "d", 0, "a string")).toBe("d");
    expect(r.bool("on", false, 0, "true or false")).toBe(true);
    expect(r.integer("port", 0, 0, "an integer from 0 to 65535", 0, 65535)).toBe(8080);
    expect(r.float("ratio", 1, 0, "a number", -f64.MAX_VALUE, f64.MAX_VALUE)).toBe(0.5);
    const keys = r.strings("keys", [], 0, "an array of strings");
    expect(keys.length).toBe(2);
    expect(keys[1]).toBe("b");
    r.only("name, on, port, ratio, keys");
    expect(r.error).toBe("");
  });

  it("names a missing required field and what it expects", () => {
    const r = reader('{"path": "/x"}');
    r.require("path", "a string");
    expect(r.error).toBe("");
    r.require("cluster", "a non-empty string");
    expect(r.string("cluster", "", NON_EMPTY, "a non-empty string")).toBe("");
    expect(r.error).toBe("cluster: missing (required: a non-empty string)");
  });

  it("refuses a wrong kind instead of defaulting: the issue's {\"keys\": [1, 2]}", () => {
    const r = reader('{"keys": ["a", 2]}');
    r.strings("keys", [], 0, "an array of strings");
    expect(r.error).toBe("keys[1]: expected a string, got 2");
  });

  it("refuses integers out of range, fractions and integers too large for 64 bits", () => {
    expect(readInteger('{"n": 0}')).toBe("n: expected an integer from 1 to 10, got 0");
    expect(readInteger('{"n": 11}')).toBe("n: expected an integer from 1 to 10, got 11");
    expect(readInteger('{"n": 2.5}')).toBe("n: expected an integer from 1 to 10, got 2.5");
    expect(readInteger('{"n": 1e1}')).toBe("n: expected an integer from 1 to 10, got 1e1");
    expect(readInteger('{"n": 99999999999999999999}')).toBe("n: expected an integer from 1 to 10, got 99999999999999999999");
    expect(readInteger('{"n": 10}')).toBe("");
    const r = reader('{"big": 18446744073709551615}');
    expect(r.unsigned("big", 0, 0, "an integer from 0 to 18446744073709551615", 0, u64.MAX_VALUE)).toBe(u64.MAX_VALUE);
    expect(r.error).toBe("");
  });

  it("refuses unknown and repeated fields", () => {
    const unknown = reader('{"name": "x", "nmae": "y"}');
    unknown.string("name", "", 0, "a string");
    unknown.only("name, value");
    expect(unknown.error).toBe("nmae: unknown field (expected one of: name, value)");
    const prefix = reader('{"va": 1}');
    prefix.only("name, value");
    expect(prefix.error).toBe("va: unknown field (expected one of: name, value)");
    // only() judges members after the reads (as the generated method calls it): the last of two names is read.
    const twice = reader('{"name": "x", "name": "y"}');
    expect(twice.string("name", "", 0, "a string")).toBe("y");
    twice.only("name");
    expect(twice.error).toBe("name: given more than once");
    const unread = reader('{"name": "x", "name": "y"}');
    unread.only("name");
    expect(unread.error).toBe("name: given more than once");
  });

  it("names the path of a nested field, and keeps only the first problem", () => {
    const r = reader('{"upstream": {"timeoutMs": "soon"}, "name": 1}');
    expect(r.enter("upstream", 0, "an object")).toBe(true);
    r.integer("timeoutMs", 500, 0, "an integer from 1 to 60000", 1, 60000);
    r.only("timeoutMs");
    r.leave();
    r.string("name", "", 0, "a string");
    expect(r.error).toBe("upstream.timeoutMs: expected an integer from 1 to 60000, got a string");
  });

  it("refuses a nested field that is not an object", () => {
    const r = reader('{"upstream": [1]}');
    expect(r.enter("upstream", 0, "an object")).toBe(false);
    expect(r.error).toBe("upstream: expected an object, got an array");
  });
});

function readInteger(text: string): string {
  const r = reader(text);
  r.integer("n", 5, 0, "an integer from 1 to 10", 1, 10);
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
