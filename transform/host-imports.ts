// AssemblyScript's standard library reaches for a JavaScript host in a few places (its `env` bindings):
// Date.now(), console.*, performance.now(), process.*, trace(), crypto.getRandomValues(). They compile,
// and Envoy then refuses the module for an import it does not offer. The build names the SDK call to use
// instead, at each place the filter's code uses one.
import type { CallExpression, Node, Source } from "assemblyscript";
import { calleeName, qualifiedName, walkSources } from "./ast.js";
import { Kind } from "./kinds.js";

interface StdApi {
  /** What the filter's code writes: `object.property`, or a bare function name. */
  spellings: string[];
  instead: string;
}

const LOG_INSTEAD = (level: string) => `use log.${level}(message) from "proxy-wasm-as" (Envoy's log, at ${level} level)`;
const TIME_INSTEAD = 'use getCurrentTimeNanoseconds() from "proxy-wasm-as" (the host\'s clock, in nanoseconds)';

/** AssemblyScript's `env` imports (std/assembly/bindings/dom.ts and node.ts, builtins.ts), by import name. */
const STD_APIS: Record<string, StdApi> = {
  "Date.now": { spellings: ["Date.now", "process.time"], instead: TIME_INSTEAD },
  "performance.now": { spellings: ["performance.now", "process.hrtime"], instead: TIME_INSTEAD },
  "console.log": { spellings: ["console.log"], instead: LOG_INSTEAD("info") },
  "console.info": { spellings: ["console.info"], instead: LOG_INSTEAD("info") },
  "console.debug": { spellings: ["console.debug"], instead: LOG_INSTEAD("debug") },
  "console.warn": { spellings: ["console.warn"], instead: LOG_INSTEAD("warn") },
  "console.error": { spellings: ["console.error"], instead: LOG_INSTEAD("error") },
  "console.assert": { spellings: ["console.assert"], instead: 'use if (!condition) log.error(message) from "proxy-wasm-as"' },
  "console.time": { spellings: ["console.time"], instead: `${TIME_INSTEAD}, twice, and log.info() the difference` },
  "console.timeLog": { spellings: ["console.timeLog"], instead: `${TIME_INSTEAD}, twice, and log.info() the difference` },
  "console.timeEnd": { spellings: ["console.timeEnd"], instead: `${TIME_INSTEAD}, twice, and log.info() the difference` },
  trace: { spellings: ["trace"], instead: LOG_INSTEAD("trace") },
  "process.exit": {
    spellings: ["process.exit"],
    instead: "return false from onConfigure or onVmStart to refuse a configuration (a filter cannot exit the proxy)",
  },
  "process.argv": {
    spellings: ["process.argv"],
    instead: "read the plugin's configuration in onConfigure (a filter has no command line)",
  },
  "crypto.getRandomValuesN": {
    spellings: ["crypto.getRandomValues"],
    instead: "use Math.random(), which the preset seeds from the host's random_get (not a cryptographic generator)",
  },
  seed: { spellings: ["Math.random"], instead: 'build with the preset asconfig.json, whose "use" option seeds Math.random from the host\'s random_get' },
  abort: { spellings: ["abort", "assert"], instead: 'build with the preset asconfig.json, whose "use" option routes abort() to Envoy\'s log' },
};

export interface HostImportError {
  message: string;
  /** Where the filter's code uses it, or null when only a library it imports does. */
  node: Node | null;
}

function describeImport(name: string, api: StdApi): string {
  const spelled = api.spellings.map((spelling) => (spelling.includes(".") || spelling === "trace" || spelling === "abort" ? `${spelling}()` : spelling));
  return `${spelled.join(" / ")} imports env.${name}, which Envoy does not offer: ${api.instead}`;
}

/** Where `spelling` ("console.log", "trace") occurs in the sources. */
function usesOf(sources: Source[], spelling: string): Node[] {
  const [object, property] = spelling.includes(".") ? spelling.split(".") : [null, spelling];
  const found: Node[] = [];
  walkSources(sources, (node) => {
    if (object !== null) {
      const name = qualifiedName(node);
      if (name && name[0] === object && name[1] === property) found.push(node);
    } else if (node.kind === Kind.Call) {
      const callee = (node as CallExpression).expression;
      if (callee.kind === Kind.Identifier && calleeName(node as CallExpression) === property) found.push(node);
    }
  });
  return found;
}

/** One error per use of each std API the module imports from the host; `imports` are "module.base" names. */
export function hostImportErrors(imports: Iterable<[string, string]>, userSources: Source[]): HostImportError[] {
  const errors: HostImportError[] = [];
  for (const [module, base] of imports) {
    if (module !== "env") continue;
    const api = STD_APIS[base];
    if (!api) {
      // Another of the bindings' dotted names (Math.abs, Reflect.get, document.title): only asked for on purpose.
      if (base.includes(".")) errors.push({ message: `${base} imports env.${base} from AssemblyScript's JavaScript bindings, which Envoy does not offer`, node: null });
      continue;
    }
    const message = describeImport(base, api);
    const nodes = api.spellings.flatMap((spelling) => usesOf(userSources, spelling));
    if (nodes.length === 0) errors.push({ message, node: null });
    for (const node of nodes) errors.push({ message, node });
  }
  return errors;
}
