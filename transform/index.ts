// An asc transform, loaded by the preset asconfig.json. After parsing, before names are resolved:
// - a filter exports only the Proxy-Wasm callbacks it needs (see callbacks.ts): the callbacks nothing
//   in the user's code calls for are taken out of the SDK's exports.ts;
// - the SDK's own runtime replaces asc's stub (see runtime.ts);
// - a class decorated with @configuration gets a strict reader (see configuration.ts);
// - an HttpContext that holds nothing per stream is shared by its root's streams, and a filter whose streams all
//   share exports no proxy_on_delete (see shared-contexts.ts);
// - the SDK's messages written as staticUtf8("...") become UTF-8 static data (see static-text.ts);
// - a filter without the ABI's export line, or that registers no root context, fails to build with
//   the fix in one message (see entry.ts, registration.ts).
// After compiling: a standard library API that would import from a JavaScript host (Date.now(),
// console.log()) fails the build with the SDK call to use instead (see host-imports.ts).
import type { FunctionDeclaration, Parser, Program, Statement } from "assemblyscript";
import { Transform } from "assemblyscript/transform";
import { isCallbackNeeded, ON_DELETE } from "./callbacks.js";
import { addConfigurationReaders } from "./configuration.js";
import { missingExportsMessage } from "./entry.js";
import { hostImportErrors } from "./host-imports.js";
import { addIdentifiers } from "./identifiers.js";
import { Kind, TRANSFORM_ERROR } from "./kinds.js";
import { addStaticText } from "./static-text.js";
import { dropNoRootContextReport, NO_ROOT_CONTEXT, registersAtTopLevel, registersRootContext } from "./registration.js";
import { useSdkRuntime } from "./runtime.js";
import { everyStreamShared, markStreamsNotDeleted, shareHttpContexts } from "./shared-contexts.js";
import { isSdk, sdkExports, userSources } from "./sources.js";

type BinaryenModule = Parameters<NonNullable<Transform["afterCompile"]>>[0];
/** The module's import names, through the binaryen.js instance asc hands every transform. */
interface ImportInfo { module: string; base: string }
interface Binaryen {
  getFunctionInfo(ref: number): ImportInfo;
  getGlobalInfo(ref: number): ImportInfo;
}

function isUnneededCallback(statement: Statement, userIdentifiers: Set<string>, deletes: boolean): boolean {
  return statement.kind === Kind.FunctionDeclaration && !isCallbackNeeded((statement as FunctionDeclaration).name.text, userIdentifiers, deletes);
}

export default class ProxyWasmTransform extends Transform {
  private compiled: Program | null = null;

  afterParse(parser: Parser): void {
    useSdkRuntime(parser);
    const exports = sdkExports(parser.sources);
    if (!exports) {
      // A filter written with the SDK, without the line: reported now, the build stops before asc's own errors
      // about what the line would have brought. (Code that does not import the SDK is not a filter of ours.)
      if (parser.sources.some(isSdk)) parser.error(TRANSFORM_ERROR, null, "proxy-wasm-as", missingExportsMessage(parser.sources));
      return;
    }
    const sources = userSources(parser.sources);
    for (const error of addStaticText(parser, parser.sources.filter(isSdk))) parser.error(TRANSFORM_ERROR, error.node.range, "proxy-wasm-as", error.message);
    for (const error of addConfigurationReaders(parser, sources)) parser.error(TRANSFORM_ERROR, error.node.range, "proxy-wasm-as", error.message);
    const userIdentifiers = new Set<string>();
    for (const source of sources) addIdentifiers(source, userIdentifiers);
    if (!registersRootContext(sources)) parser.error(TRANSFORM_ERROR, null, "proxy-wasm-as", NO_ROOT_CONTEXT);
    if (registersAtTopLevel(sources)) dropNoRootContextReport(parser.sources.filter(isSdk));
    shareHttpContexts(sources);
    // Streams that all share their root's context leave the SDK nothing to free in proxy_on_delete.
    const deletes = !everyStreamShared(sources) || userIdentifiers.has(ON_DELETE);
    if (!deletes) markStreamsNotDeleted(parser.sources.filter(isSdk));
    const kept = exports.statements.filter((statement) => !isUnneededCallback(statement, userIdentifiers, deletes));
    exports.statements.splice(0, exports.statements.length, ...kept);
  }

  afterInitialize(program: Program): void {
    this.compiled = program;
  }

  afterCompile(module: BinaryenModule): void {
    const program = this.compiled;
    if (!program) return;
    const binaryen = (this as unknown as { binaryen: Binaryen }).binaryen;
    const imports: [string, string][] = [];
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module) imports.push([info.module, info.base]);
    }
    for (let i = 0, n = module.getNumGlobals(); i < n; i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (info.module) imports.push([info.module, info.base]);
    }
    for (const error of hostImportErrors(imports, userSources(program.sources))) {
      program.error(TRANSFORM_ERROR, error.node ? error.node.range : null, "proxy-wasm-as", error.message);
    }
  }
}
