// Every identifier of a parsed source: declared names (classes, methods, fields), names used
// (calls, property accesses, types), names imported and exported.
import type { IdentifierExpression, Node, Source } from "assemblyscript";
import { NodeKind } from "./compiler.js";

/** Anything with a numeric kind and a range is an AST node; walking every property reaches every kind of node. */
function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).kind === "number" && "range" in value;
}

function collect(value: unknown, identifiers: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, identifiers);
    return;
  }
  if (!isNode(value)) return;
  if (value.kind === NodeKind.Identifier) identifiers.add((value as IdentifierExpression).text);
  // `range` leads back to the Source: the only property that does not lead to child nodes.
  for (const [key, child] of Object.entries(value)) if (key !== "range") collect(child, identifiers);
}

export function addIdentifiers(source: Source, identifiers: Set<string>): void {
  collect(source.statements, identifiers);
}
