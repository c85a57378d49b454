// Typed configuration. A class decorated with @configuration declares the plugin's settings as typed
// fields with defaults; this gives it a method, `__readConfiguration`, that reads each field from a JSON
// object through the SDK's ConfigurationReader (assembly/config/): the SDK's parseConfiguration<T> calls it.
//
//   @configuration
//   class Settings {
//     @required @nonEmpty cluster: string = "";   // must be present (and not "")
//     path: string = "/check";                    // optional: the initializer is the default
//     @range(1, 60000) timeoutMs: u32 = 500;      // integers are checked against their type and the range
//     upstream: Upstream = new Upstream();        // another @configuration class: a nested object
//   }
//
// The method is written as AssemblyScript text, parsed, and moved into the class, so the transform reads
// and builds no more of the AST than names, decorators and the source text of types and arguments.
import type { ClassDeclaration, DecoratorNode, FieldDeclaration, IdentifierExpression, Node, Parser, Source } from "assemblyscript";
import { walkSources } from "./ast.js";
import { Flag, Kind } from "./kinds.js";

const CONFIGURATION = "configuration";
const FIELD_DECORATORS = new Set(["required", "nonEmpty", "range"]);
/** The reader's field flags (assembly/config/reader.ts); REQUIRED becomes a `reader.require` call. */
const REQUIRED = 1;
const NON_EMPTY = 2;

/** Integer types and their ranges, as AssemblyScript expressions. */
const INTEGERS: Record<string, [string, string]> = {
  i8: ["-128", "127"], i16: ["-32768", "32767"], i32: ["-2147483648", "2147483647"], i64: ["i64.MIN_VALUE", "i64.MAX_VALUE"],
  u8: ["0", "255"], u16: ["0", "65535"], u32: ["0", "4294967295"],
};
/** The same ranges as written in messages. */
const INTEGER_TEXT: Record<string, [string, string]> = {
  ...INTEGERS, i64: ["-9223372036854775808", "9223372036854775807"], u64: ["0", "18446744073709551615"],
};
const FLOATS: Record<string, [string, string]> = {
  f32: ["-f32.MAX_VALUE", "f32.MAX_VALUE"], f64: ["-f64.MAX_VALUE", "f64.MAX_VALUE"], number: ["-f64.MAX_VALUE", "f64.MAX_VALUE"],
};
const SUPPORTED = "string, bool, i8 to i64, u8 to u64, f32, f64, string[], JsonValue, or another @configuration class";

export interface ConfigurationError {
  message: string;
  node: Node;
}

function textOf(node: Node): string {
  return node.range.source.text.substring(node.range.start, node.range.end);
}

function decoratorName(decorator: DecoratorNode): string {
  return decorator.name.kind === Kind.Identifier ? (decorator.name as IdentifierExpression).text : "";
}

function hasDecorator(declaration: { decorators: DecoratorNode[] | null }, name: string): boolean {
  return (declaration.decorators ?? []).some((decorator) => decoratorName(decorator) === name);
}

function configurationClasses(sources: Source[]): ClassDeclaration[] {
  const classes: ClassDeclaration[] = [];
  walkSources(sources, (node) => {
    if (node.kind === Kind.ClassDeclaration && hasDecorator(node as ClassDeclaration, CONFIGURATION)) classes.push(node as ClassDeclaration);
  });
  return classes;
}

/** One field's code in the generated method, or an error about the field. */
function readField(field: FieldDeclaration, classNames: Set<string>): string | ConfigurationError {
  const read = readValue(field, classNames);
  if ("message" in read) return read;
  if (!(read.flags & REQUIRED)) return read.line;
  // A call of its own: a plugin whose fields are all optional carries none of the missing-field code.
  return `reader.require(${JSON.stringify(field.name.text)}, ${JSON.stringify(read.expected)}); ${read.line}`;
}

interface FieldRead {
  line: string;
  flags: number;
  /** What the field expects, as its messages say it. */
  expected: string;
}

/** The statement that reads one field's value. */
function readValue(field: FieldDeclaration, classNames: Set<string>): FieldRead | ConfigurationError {
  const name = field.name.text;
  const fail = (problem: string): ConfigurationError => ({ message: `@configuration field '${name}': ${problem}`, node: field });
  if (!field.type) return fail(`needs a type (${SUPPORTED})`);
  if (field.flags & Flag.Readonly) return fail("is readonly: the reader assigns it");
  const type = textOf(field.type).replace(/\s+/g, "");
  let flags = 0;
  let range: [string, string] | null = null;
  for (const decorator of field.decorators ?? []) {
    const kind = decoratorName(decorator);
    if (kind === "required") flags |= REQUIRED;
    else if (kind === "nonEmpty") flags |= NON_EMPTY;
    else if (kind === "range") {
      const args = decorator.args ?? [];
      if (args.length !== 2) return fail("@range takes two numbers, the minimum and the maximum");
      range = [textOf(args[0]), textOf(args[1])];
    }
  }
  if (flags & NON_EMPTY && type !== "string" && type !== "string[]" && type !== "Array<string>") return fail("@nonEmpty applies to a string or string[]");
  const key = JSON.stringify(name);
  const integer = INTEGERS[type];
  const float = FLOATS[type];
  if (range && !integer && !float && type !== "u64") return fail("@range applies to a number");
  const [min, max] = range ?? integer ?? float ?? ["0", "u64.MAX_VALUE"];
  const common = (expected: string) => `${key}, this.${name}, ${flags}, ${JSON.stringify(expected)}`;
  const read = (expected: string, line: string): FieldRead => ({ line, flags, expected });
  const nonEmpty = flags & NON_EMPTY ? "a non-empty " : "";
  if (type === "string") {
    const expected = nonEmpty ? `${nonEmpty}string` : "a string";
    return read(expected, `this.${name} = reader.string(${common(expected)});`);
  }
  if (type === "bool" || type === "boolean") return read("true or false", `this.${name} = reader.bool(${common("true or false")});`);
  if (integer || type === "u64") {
    const expected = `an integer from ${range ? min : INTEGER_TEXT[type][0]} to ${range ? max : INTEGER_TEXT[type][1]}`;
    if (type === "u64") return read(expected, `this.${name} = reader.unsigned(${common(expected)}, <u64>(${min}), <u64>(${max}));`);
    return read(expected, `this.${name} = <${type}>reader.integer(${common(expected).replace(`this.${name}`, `<i64>this.${name}`)}, <i64>(${min}), <i64>(${max}));`);
  }
  if (float) {
    const expected = !range ? "a number" : /MAX_VALUE/.test(max) ? `a number of at least ${min}` : `a number from ${min} to ${max}`;
    return read(expected, `this.${name} = <${type}>reader.float(${common(expected).replace(`this.${name}`, `<f64>this.${name}`)}, <f64>(${min}), <f64>(${max}));`);
  }
  if (type === "string[]" || type === "Array<string>") {
    const expected = `${nonEmpty || "an "}array of strings`;
    return read(expected, `this.${name} = reader.strings(${common(expected)});`);
  }
  if (type === "JsonValue") return read("any JSON value", `this.${name} = reader.json(${common("any JSON value")});`);
  if (classNames.has(type)) {
    return read("an object", `if (reader.enter(${key}, ${flags}, "an object")) { this.${name}.__readConfiguration<R>(reader); reader.leave(); }`);
  }
  return fail(`type ${type} is not one the reader knows (${SUPPORTED})`);
}

function readerMethod(declaration: ClassDeclaration, classNames: Set<string>, errors: ConfigurationError[]): string {
  const fields = declaration.members.filter(
    (member): member is FieldDeclaration => member.kind === Kind.FieldDeclaration && !(member.flags & Flag.Static),
  );
  const lines: string[] = [];
  for (const field of fields) {
    const line = readField(field, classNames);
    if (typeof line === "string") lines.push(line);
    else errors.push(line);
  }
  lines.push(`reader.only(${JSON.stringify(fields.map((field) => field.name.text).join(", "))});`);
  // One line: the diagnostics of code after the class keep their line numbers.
  return `__readConfiguration<R>(reader: R): void { ${lines.join(" ")} }`;
}

/** Our field decorators are for the transform only: asc would otherwise keep them as unknown decorators. */
function dropFieldDecorators(declaration: ClassDeclaration): void {
  for (const member of declaration.members) {
    if (member.kind !== Kind.FieldDeclaration || !member.decorators) continue;
    const kept = member.decorators.filter((decorator) => !FIELD_DECORATORS.has(decoratorName(decorator)));
    member.decorators = kept.length ? kept : null;
  }
}

/** Gives every @configuration class of `sources` its reader; returns what it could not read. */
export function addConfigurationReaders(parser: Parser, sources: Source[]): ConfigurationError[] {
  const classes = configurationClasses(sources);
  const errors: ConfigurationError[] = [];
  if (classes.length === 0) return errors;
  const classNames = new Set(classes.map((declaration) => declaration.name.text));
  classes.forEach((declaration, i) => {
    const method = readerMethod(declaration, classNames, errors);
    dropFieldDecorators(declaration);
    const path = declaration.range.source.normalizedPath.replace(/\.ts$/, `.configuration-${i}.ts`);
    parser.parseFile(`class Generated { ${method} }`, path, false);
    const generated = parser.sources[parser.sources.length - 1];
    if (generated.normalizedPath !== path) throw new Error(`proxy-wasm-as transform: ${path} was not parsed`);
    const holder = generated.statements[0] as ClassDeclaration;
    // The method moves into the user's class; the holder stays behind, empty and never compiled (the
    // compiler still needs the file its nodes point back to).
    declaration.members.push(holder.members.pop()!);
  });
  return errors;
}
