// An asc transform, loaded by the preset asconfig.json. After parsing, before names are resolved:
// - a filter exports only the Proxy-Wasm callbacks it needs (see callbacks.ts): the callbacks nothing
//   in the user's code calls for are taken out of the SDK's exports.ts;
// - the SDK's own runtime replaces asc's stub (see runtime.ts);
// - a filter that registers no root context fails to build (see registration.ts).
import type { FunctionDeclaration, Parser, Statement } from "assemblyscript";
import { Transform } from "assemblyscript/transform";
import { isCallbackNeeded } from "./callbacks.js";
import { DiagnosticCode, NodeKind } from "./compiler.js";
import { addIdentifiers } from "./identifiers.js";
import { NO_ROOT_CONTEXT, registersRootContext } from "./registration.js";
import { useSdkRuntime } from "./runtime.js";
import { sdkExports, userSources } from "./sources.js";

function isUnneededCallback(statement: Statement, userIdentifiers: Set<string>): boolean {
  return statement.kind === NodeKind.FunctionDeclaration && !isCallbackNeeded((statement as FunctionDeclaration).name.text, userIdentifiers);
}

export default class ProxyWasmTransform extends Transform {
  afterParse(parser: Parser): void {
    useSdkRuntime(parser);
    const exports = sdkExports(parser.sources);
    if (!exports) return;
    const userIdentifiers = new Set<string>();
    for (const source of userSources(parser.sources)) addIdentifiers(source, userIdentifiers);
    if (!registersRootContext(userIdentifiers)) parser.error(DiagnosticCode.Transform_0_1, null, "proxy-wasm-as", NO_ROOT_CONTEXT);
    const kept = exports.statements.filter((statement) => !isUnneededCallback(statement, userIdentifiers));
    exports.statements.splice(0, exports.statements.length, ...kept);
  }
}
