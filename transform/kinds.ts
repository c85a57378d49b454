// Enum values read from the compiler at run time. TypeScript inlines a const enum's numbers from the type
// declarations it compiled against, and AssemblyScript's node kinds shift between versions (0.27, 0.28):
// by name, the transform works with whichever compiler loads it.
import * as assemblyscript from "assemblyscript";

const compiler = assemblyscript as unknown as {
  NodeKind: Record<string, number>;
  SourceKind: Record<string, number>;
  LiteralKind: Record<string, number>;
  DiagnosticCode: Record<string, number>;
  CommonFlags: Record<string, number>;
};

function valueOf(enumeration: Record<string, number>, name: string): number {
  const value = enumeration[name];
  if (typeof value !== "number") throw new Error(`proxy-wasm-as transform: this AssemblyScript has no ${name}`);
  return value;
}

export const Kind = {
  Identifier: valueOf(compiler.NodeKind, "Identifier"),
  Call: valueOf(compiler.NodeKind, "Call"),
  PropertyAccess: valueOf(compiler.NodeKind, "PropertyAccess"),
  FunctionDeclaration: valueOf(compiler.NodeKind, "FunctionDeclaration"),
  ClassDeclaration: valueOf(compiler.NodeKind, "ClassDeclaration"),
  FieldDeclaration: valueOf(compiler.NodeKind, "FieldDeclaration"),
  NamedType: valueOf(compiler.NodeKind, "NamedType"),
  Literal: valueOf(compiler.NodeKind, "Literal"),
  UnaryPrefix: valueOf(compiler.NodeKind, "UnaryPrefix"),
  Expression: valueOf(compiler.NodeKind, "Expression"),
  Block: valueOf(compiler.NodeKind, "Block"),
  MethodDeclaration: valueOf(compiler.NodeKind, "MethodDeclaration"),
  This: valueOf(compiler.NodeKind, "This"),
  Super: valueOf(compiler.NodeKind, "Super"),
  New: valueOf(compiler.NodeKind, "New"),
  Return: valueOf(compiler.NodeKind, "Return"),
};

export const LiteralKind = {
  String: valueOf(compiler.LiteralKind, "String"),
  Template: valueOf(compiler.LiteralKind, "Template"),
};

export const USER_ENTRY = valueOf(compiler.SourceKind, "UserEntry");
/** "Transform '{0}': {1}." */
export const TRANSFORM_ERROR = valueOf(compiler.DiagnosticCode, "Transform_0_1");

export const Flag = {
  Static: valueOf(compiler.CommonFlags, "Static"),
  Readonly: valueOf(compiler.CommonFlags, "Readonly"),
};
