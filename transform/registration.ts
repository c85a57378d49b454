// A filter must register a root context: without one, the SDK creates none and Envoy refuses the
// plugin at start. The build says so. It looks for the call itself: an import left in place while
// the call is commented out registers nothing. (A call the filter never reaches still gets past the
// build: the SDK then says what is missing at start, see assembly/dispatcher/registry.ts, unless a
// registration is top-level code, which always runs.)
import type { BlockStatement, CallExpression, ExpressionStatement, FunctionDeclaration, Source } from "assemblyscript";
import { calleeName, walkSources } from "./ast.js";
import { Kind } from "./kinds.js";

const REGISTRATIONS = new Set(["registerRootContext", "registerNamedRootContext"]);

export const NO_ROOT_CONTEXT = "the filter registers no root context: call registerRootContext(...) from its entry file";

/** Whether the user's code calls a root context registration. */
export function registersRootContext(userSources: Source[]): boolean {
  let found = false;
  walkSources(userSources, (node) => {
    if (isRegistration(node)) found = true;
  });
  return found;
}

function isRegistration(node: { kind: number }): boolean {
  return node.kind === Kind.Call && REGISTRATIONS.has(calleeName(node as CallExpression) ?? "");
}

/** Whether a registration is a statement of a file's top-level code: it runs when the module starts. */
export function registersAtTopLevel(userSources: Source[]): boolean {
  return userSources.some((source) =>
    source.statements.some((statement) => statement.kind === Kind.Expression && isRegistration((statement as ExpressionStatement).expression)),
  );
}

const REGISTRY = "assembly/dispatcher/registry.ts";
const REPORT = "reportNoRootContext";

/** Empties the SDK's start-up report of a missing root context, which a top-level registration makes unreachable. */
export function dropNoRootContextReport(sdkSources: Source[]): void {
  const registry = sdkSources.find((source) => source.normalizedPath.endsWith(REGISTRY));
  const report = registry?.statements.find(
    (statement) => statement.kind === Kind.FunctionDeclaration && (statement as FunctionDeclaration).name.text === REPORT,
  ) as FunctionDeclaration | undefined;
  if (report?.body && report.body.kind === Kind.Block) (report.body as BlockStatement).statements.length = 0;
}
