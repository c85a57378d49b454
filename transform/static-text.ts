// Messages as UTF-8 static data. An AssemblyScript string literal is UTF-16 behind a header and a data segment
// of its own: "unexpected end" costs 28 bytes of text and about 18 more. The SDK writes the messages only its
// error paths need as `staticUtf8("...")` (assembly/runtime/strings.ts); this replaces each such call in the
// SDK's sources with `memory.data<u8>([...])`, the text's UTF-8 bytes, one byte per ASCII character. Without
// the transform (the SDK's unit tests) `staticUtf8` encodes the same bytes once at run time.
import type { CallExpression, Expression, Parser, Source, StringLiteralExpression, TemplateLiteralExpression, VariableStatement } from "assemblyscript";
import { calleeName, walkSources } from "./ast.js";
import { Kind, LiteralKind } from "./kinds.js";

const STATIC_UTF8 = "staticUtf8";

export interface StaticTextError {
  message: string;
  node: CallExpression;
}

/** The literal's text; null unless `node` is a string literal or a template literal without substitutions. */
function literalText(node: Expression): string | null {
  if (node.kind !== Kind.Literal) return null;
  const literal = node as StringLiteralExpression & TemplateLiteralExpression;
  if (literal.literalKind === LiteralKind.String) return literal.value;
  if (literal.literalKind === LiteralKind.Template && !literal.tag && literal.expressions.length === 0) return literal.parts[0];
  return null;
}

/** Replaces every `staticUtf8("text")` call of `sources` with the text's UTF-8 bytes as static data. */
export function addStaticText(parser: Parser, sources: Source[]): StaticTextError[] {
  const calls: CallExpression[] = [];
  walkSources(sources, (node) => {
    if (node.kind === Kind.Call && calleeName(node as CallExpression) === STATIC_UTF8) calls.push(node as CallExpression);
  });
  const errors: StaticTextError[] = [];
  calls.forEach((call, i) => {
    const text = call.args.length === 1 ? literalText(call.args[0]) : null;
    if (text === null) {
      errors.push({ message: `${STATIC_UTF8} takes one string literal`, node: call });
      return;
    }
    const path = `${call.range.source.normalizedPath.replace(/\.ts$/, "")}.static-text-${i}.ts`;
    parser.parseFile(`const bytes = memory.data<u8>([${[...Buffer.from(text, "utf8")].join(",")}]);`, path, false);
    const generated = parser.sources[parser.sources.length - 1];
    if (generated.normalizedPath !== path) throw new Error(`proxy-wasm-as transform: ${path} was not parsed`);
    const replacement = (generated.statements[0] as VariableStatement).declarations[0].initializer as CallExpression;
    // The call becomes memory.data's; the holder file stays behind empty (diagnostics point back into it).
    generated.statements.length = 0;
    call.expression = replacement.expression;
    call.typeArguments = replacement.typeArguments;
    call.args = replacement.args;
  });
  return errors;
}
