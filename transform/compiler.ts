// The compiler's enums as the compiler that loads the transform numbers them. asc's typings declare
// them `const enum`, so tsc would inline the numbers of the version it compiled against, and
// AssemblyScript 0.28 renumbered them (NodeKind.Identifier is 6 in 0.27, 7 in 0.28). Use these,
// never the enums imported from "assemblyscript" directly.
import * as compiler from "assemblyscript";

const enums = compiler as unknown as {
  NodeKind: Readonly<Record<keyof typeof compiler.NodeKind, compiler.NodeKind>>;
  DiagnosticCode: Readonly<Record<keyof typeof compiler.DiagnosticCode, compiler.DiagnosticCode>>;
};

export const NodeKind = enums.NodeKind;
export const DiagnosticCode = enums.DiagnosticCode;
