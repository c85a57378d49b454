// Every identifier of a parsed source: declared names (classes, methods, fields), names used
// (calls, property accesses, types), names imported and exported.
import type { IdentifierExpression, Source } from "assemblyscript";
import { walk } from "./ast.js";
import { Kind } from "./kinds.js";

export function addIdentifiers(source: Source, identifiers: Set<string>): void {
  walk(source.statements, (node) => {
    if (node.kind === Kind.Identifier) identifiers.add((node as IdentifierExpression).text);
  });
}
