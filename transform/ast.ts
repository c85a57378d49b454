// A walk over every node of a parsed source. It relies only on nodes having a numeric `kind` and a `range`,
// not on each kind's fields, so it holds across AssemblyScript versions whose node shapes differ.
import type { CallExpression, Expression, IdentifierExpression, Node, PropertyAccessExpression, Source } from "assemblyscript";
import { Kind } from "./kinds.js";

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).kind === "number" && "range" in value;
}

/** Calls `visit` on every node under `value` (a node or an array of them), parents first. */
export function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
    return;
  }
  if (!isNode(value)) return;
  visit(value);
  // `range` leads back to the Source: the only property that does not lead to child nodes.
  for (const [key, child] of Object.entries(value)) if (key !== "range") walk(child, visit);
}

export function walkSources(sources: Source[], visit: (node: Node) => void): void {
  for (const source of sources) walk(source.statements, visit);
}

/** `name` for `name(...)` and `x.name(...)`; null for any other callee. */
export function calleeName(call: CallExpression): string | null {
  return lastName(call.expression);
}

/** The identifier's text, or the property's for an access (`a.b.c` → "c"). */
export function lastName(expression: Expression): string | null {
  if (expression.kind === Kind.Identifier) return (expression as IdentifierExpression).text;
  if (expression.kind === Kind.PropertyAccess) return (expression as PropertyAccessExpression).property.text;
  return null;
}

/** ["console", "log"] for `console.log`; null unless the expression is `identifier.property`. */
export function qualifiedName(node: Node): [string, string] | null {
  if (node.kind !== Kind.PropertyAccess) return null;
  const access = node as PropertyAccessExpression;
  if (access.expression.kind !== Kind.Identifier) return null;
  return [(access.expression as IdentifierExpression).text, access.property.text];
}
