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
// The method walks the object's members once: a chain of name tests picks the field and the reader's method
// for its type; a bit per field finds a name given twice; after the walk, `@required` fields not seen are
// refused, and a nested class's object that is absent is read as `{}` when that class requires fields. The
// method is written as AssemblyScript text, parsed, and moved into the class, so the transform reads and
// builds no more of the AST than names, decorators and the source text of types and arguments.
import type { ClassDeclaration, DecoratorNode, FieldDeclaration, IdentifierExpression, Node, Parser, Source } from "assemblyscript";
import { walkSources } from "./ast.js";
import { Flag, Kind } from "./kinds.js";

const CONFIGURATION = "configuration";
const FIELD_DECORATORS = new Set(["required", "nonEmpty", "range"]);
/** The reader's field flags (assembly/config/reader.ts); REQUIRED becomes a `reader.missing` check after the walk. */
const REQUIRED = 1;
const NON_EMPTY = 2;
/** One bit each in the generated method's `seen`, at most a u64. */
const MAX_FIELDS = 64;

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

interface FieldRead {
  /** Reads the member `value` (named `key`) into the field. */
  line: string;
  flags: number;
  /** What the field expects, as its messages say it. */
  expected: string;
  /** The field's type when it is another @configuration class. */
  nested?: string;
}

/** The statement that reads one member's value into the field. */
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
  const integer = INTEGERS[type];
  const float = FLOATS[type];
  if (range && !integer && !float && type !== "u64") return fail("@range applies to a number");
  const [min, max] = range ?? integer ?? float ?? ["0", "u64.MAX_VALUE"];
  const common = (expected: string) => `key, value, ${flags}, ${utf8Line(expected)}`;
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
    return read(expected, `this.${name} = <${type}>reader.integer(${common(expected)}, <i64>(${min}), <i64>(${max}));`);
  }
  if (float) {
    const expected = !range ? "a number" : /MAX_VALUE/.test(max) ? `a number of at least ${min}` : `a number from ${min} to ${max}`;
    return read(expected, `this.${name} = <${type}>reader.float(${common(expected)}, <f64>(${min}), <f64>(${max}));`);
  }
  if (type === "string[]" || type === "Array<string>") {
    const expected = `${nonEmpty || "an "}array of strings`;
    return read(expected, `this.${name} = reader.strings(${common(expected)});`);
  }
  if (type === "JsonValue") return read("any JSON value", `this.${name} = value;`);
  if (classNames.has(type)) return { ...read("an object", nestedRead(name, "key", "value")), nested: type };
  return fail(`type ${type} is not one the reader knows (${SUPPORTED})`);
}

/**
 * `text` and a line feed as UTF-8 static data, for the reader's messages (see assembly/runtime/strings.ts,
 * staticUtf8): half the bytes of a string literal, and no header.
 */
function utf8Line(text: string): string {
  return `memory.data<u8>([${[...Buffer.from(`${text}\n`, "utf8")].join(", ")}])`;
}

/** Steps into the object for nested field `name` and reads it; the reader's path is put back after. */
function nestedRead(name: string, key: string, value: string): string {
  return `const outer = reader.prefix; if (reader.enter(${key}, ${value})) this.${name}.__readConfiguration<R>(reader); reader.prefix = outer;`;
}

interface ClassFields {
  reads: [FieldDeclaration, FieldRead][];
}

function fieldsOf(declaration: ClassDeclaration): FieldDeclaration[] {
  return declaration.members.filter(
    (member): member is FieldDeclaration => member.kind === Kind.FieldDeclaration && !(member.flags & Flag.Static),
  );
}

/** Whether reading `{}` into class `name` fails: it, or a class nested in it, has a @required field. */
function requiresFields(name: string, classes: Map<string, ClassFields>, visiting = new Set<string>()): boolean {
  const fields = classes.get(name);
  if (!fields || visiting.has(name)) return false;
  visiting.add(name);
  return fields.reads.some(([, read]) => read.flags & REQUIRED || (read.nested !== undefined && requiresFields(read.nested, classes, visiting)));
}

function readerMethod(declaration: ClassDeclaration, classes: Map<string, ClassFields>): string {
  const reads = classes.get(declaration.name.text)!.reads;
  // A bit per field: u32 unless the class has more than 32 fields.
  const bits = reads.length > 32 ? "u64" : "u32";
  const names = utf8Line(reads.map(([field]) => field.name.text).join(", "));
  const tests = reads.map(([field, read], i) => `if (reader.is(key, ${JSON.stringify(field.name.text)})) { field = <${bits}>1 << ${i}; ${read.line} }`);
  const after: string[] = [];
  reads.forEach(([field, read], i) => {
    const name = field.name.text;
    if (read.flags & REQUIRED) after.push(`if (!(seen & (<${bits}>1 << ${i}))) reader.missing(${JSON.stringify(name)}, ${utf8Line(read.expected)});`);
    else if (read.nested !== undefined && requiresFields(read.nested, classes)) {
      after.push(`if (!(seen & (<${bits}>1 << ${i}))) { ${nestedRead(name, JSON.stringify(name), "null")} }`);
    }
  });
  const loop = [
    `let seen: ${bits} = 0; let member = reader.first();`,
    `while (member) { const key = member.name; const value = member.value; let field: ${bits} = 0;`,
    [...tests, `reader.unknown(key, ${names});`].join(" else "),
    "if (seen & field) reader.twice(key); seen |= field; member = member.next; }",
  ];
  // One line: the diagnostics of code after the class keep their line numbers.
  return `__readConfiguration<R>(reader: R): void { ${shareTexts([...loop, ...after].join(" "))} }`;
}

/** Each text in `code` once, as a local: every memory.data call site is data of its own. */
function shareTexts(code: string): string {
  const names = new Map<string, string>();
  const shared = code.replace(/memory\.data<u8>\(\[[\d, ]*\]\)/g, (data) => {
    if (!names.has(data)) names.set(data, `text${names.size}`);
    return names.get(data)!;
  });
  return [...[...names].map(([data, name]) => `const ${name} = ${data};`), shared].join(" ");
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
  const fields = new Map<string, ClassFields>();
  for (const declaration of classes) {
    const reads: [FieldDeclaration, FieldRead][] = [];
    const declared = fieldsOf(declaration);
    if (declared.length > MAX_FIELDS) errors.push({ message: `@configuration class '${declaration.name.text}': at most ${MAX_FIELDS} fields`, node: declaration });
    for (const field of declared) {
      const read = readValue(field, classNames);
      if ("message" in read) errors.push(read);
      else reads.push([field, read]);
    }
    fields.set(declaration.name.text, { reads });
  }
  classes.forEach((declaration, i) => {
    const method = readerMethod(declaration, fields);
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
