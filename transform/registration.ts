// A filter must register a root context: without one, the SDK creates none and Envoy refuses the
// plugin at start. The build says so. It looks for the call itself: an import left in place while
// the call is commented out registers nothing. (A call the filter never reaches still gets past the
// build: the SDK then says what is missing at start, see assembly/dispatcher/registry.ts.)
import type { CallExpression, Source } from "assemblyscript";
import { calleeName, walkSources } from "./ast.js";
import { Kind } from "./kinds.js";

const REGISTRATIONS = new Set(["registerRootContext", "registerNamedRootContext"]);

export const NO_ROOT_CONTEXT = "the filter registers no root context: call registerRootContext(...) from its entry file";

/** Whether the user's code calls a root context registration. */
export function registersRootContext(userSources: Source[]): boolean {
  let found = false;
  walkSources(userSources, (node) => {
    if (node.kind === Kind.Call && REGISTRATIONS.has(calleeName(node as CallExpression) ?? "")) found = true;
  });
  return found;
}
