// Where a trap happened, in the filter's source: V8 names each wasm frame of an error's stack by function index
// and module byte offset; the name section (or the names `build` keeps in the source map) gives the function,
// the source map next to the module gives file:line:column. Envoy (cpp-host v8.cc getFailMessage) prints the same
// frames as "Proxy-Wasm plugin in-VM backtrace:" with names only, and nothing without a name section.

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isIgnored, originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import {
  functionNames,
  nameSection,
  sourceMappingUrlOf,
  sourceMappingUrlSection,
  withCustomSections,
  withoutSourceMappingUrl,
} from "./custom-sections.js";

/** The source map field where `build` keeps the module's name section (base64): release modules have none. */
export const NAME_SECTION_FIELD = "x_proxy_wasm_as_name_section";

export interface TrapFrame {
  /** The wasm function's index and the frame's byte offset in the module (the trapping or calling instruction). */
  functionIndex: number;
  offset: number;
  /** The function's name (AssemblyScript: `Class#method`), null when the module names none. */
  function: string | null;
  /** The source file (relative to the working directory when it is on disk), line and column (1-based). */
  file: string | null;
  line: number | null;
  column: number | null;
  /** The standard library or the SDK (the map's ignore list, or a `~lib/` source): not the filter's own code. */
  library: boolean;
}

interface LoadedMap {
  map: TraceMap;
  names: Uint8Array | null;
}

/** Source maps read, by path, size and mtime: many plugins of one build read it once. */
const maps = new Map<string, LoadedMap | null>();

function readMap(path: string): LoadedMap | null {
  let key: string;
  try {
    const stat = statSync(path);
    key = `${path}\0${stat.size}\0${stat.mtimeMs}`;
  } catch {
    return null;
  }
  if (maps.has(key)) return maps.get(key)!;
  let loaded: LoadedMap | null = null;
  try {
    const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const names = typeof json[NAME_SECTION_FIELD] === "string" ? Uint8Array.from(Buffer.from(json[NAME_SECTION_FIELD], "base64")) : null;
    loaded = { map: new TraceMap(json as never, pathToFileURL(path).href), names };
  } catch {
    loaded = null;
  }
  if (maps.size >= 64) maps.clear();
  maps.set(key, loaded);
  return loaded;
}

const WASM_FRAME = /^\s*at (?:.*? \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:0x([0-9a-f]+)\)?\s*$/;

export class ModuleDebugInfo {
  private constructor(
    private readonly names: Map<number, string>,
    private readonly map: TraceMap | null,
    /** The source map file the locations come from. */
    readonly sourceMapPath: string | null,
    /** The name section `build` kept in the map, for a module that has none. */
    private readonly addedNames: Uint8Array | null,
  ) {}

  /**
   * Reads the names and source map of a module: `sourceMapPath`, else `<wasmPath>.map`, else the module's own
   * sourceMappingURL when it names a file.
   */
  static load(bytes: Uint8Array, where: { wasmPath?: string; sourceMapPath?: string | false } = {}): ModuleDebugInfo {
    let own: Uint8Array | null = null;
    try {
      own = nameSection(bytes);
    } catch {
      own = null;
    }
    const path = where.sourceMapPath === false ? null : (where.sourceMapPath ?? findSourceMap(bytes, where.wasmPath));
    const loaded = path === null ? null : readMap(resolve(path));
    const added = own === null ? (loaded?.names ?? null) : null;
    let names = new Map<number, string>();
    try {
      if (own ?? added) names = functionNames((own ?? added)!);
    } catch {
      names = new Map();
    }
    return new ModuleDebugInfo(names, loaded?.map ?? null, loaded ? resolve(path!) : null, added);
  }

  /**
   * What V8 compiles: the module plus the names `build` kept and the map's absolute URL, so stack traces and a
   * debugger (node --inspect) show functions, locals and the AssemblyScript source. Custom sections only, after
   * the code: no instruction moves and nothing the module does changes.
   */
  compiledBytes(bytes: Uint8Array): Uint8Array {
    if (this.sourceMapPath === null) return bytes;
    const added = this.addedNames ? [{ name: "name", content: this.addedNames }] : [];
    return withCustomSections(withoutSourceMappingUrl(bytes), [...added, sourceMappingUrlSection(pathToFileURL(this.sourceMapPath).href)]);
  }

  /** The wasm frames of an error's stack, innermost first, with their names and source locations. */
  frames(error: unknown): TrapFrame[] {
    const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : "";
    const map = this.map;
    const frames: TrapFrame[] = [];
    for (const line of stack.split("\n")) {
      const m = WASM_FRAME.exec(line);
      if (!m) continue;
      const functionIndex = Number(m[1]);
      const offset = parseInt(m[2], 16);
      const frame: TrapFrame = { functionIndex, offset, function: this.names.get(functionIndex) ?? null, file: null, line: null, column: null, library: false };
      const at = map ? sourceAt(map, offset, frames.length > 0) : null;
      if (at) {
        frame.file = displayPath(at.source);
        frame.line = at.line;
        frame.column = at.column + 1;
        frame.library = isIgnored(map!, at.source) || frame.file.startsWith("~lib/");
      }
      frames.push(frame);
    }
    return frames;
  }

  /**
   * What follows "Function: X failed: <trap>" in the VM's failure: the filter's own frame (the innermost outside
   * the SDK and the standard library), then every frame as Envoy's in-VM backtrace lists them, with its source.
   * Empty when the module has neither names nor a source map (Envoy then prints no backtrace either).
   */
  describe(error: unknown): string {
    const frames = this.frames(error);
    if (this.names.size === 0 && this.map === null) return "";
    if (frames.length === 0) return "";
    const lines: string[] = [];
    const own = frames.find((f) => f.file !== null && !f.library) ?? frames.find((f) => f.file !== null);
    if (own) lines.push(`  at ${shortName(own.function) ?? `wasm-function[${own.functionIndex}]`} (${where(own)})`);
    lines.push("Proxy-Wasm plugin in-VM backtrace:");
    frames.forEach((f, i) => {
      const name = shortName(f.function) ?? `unknown(function index:${f.functionIndex})`;
      lines.push(`${String(i).padStart(3)}:  0x${f.offset.toString(16)} - ${name}${f.file !== null ? ` (${where(f)})` : ""}`);
    });
    if (frames.length >= Error.stackTraceLimit) lines.push(`  ... (V8 keeps ${Error.stackTraceLimit} frames: node --stack-trace-limit=N keeps more)`);
    return `\n${lines.join("\n")}`;
  }
}

/** How far before a call the arguments' code may start (asc gives the call it makes for `throw` no location). */
const CALL_LOOKBACK_BYTES = 32;

/**
 * The source position of the instruction at `offset`. A caller's frame is at its call instruction: when that has
 * no position, the nearest one before it (the call's arguments) stands for it.
 */
function sourceAt(map: TraceMap, offset: number, isCall: boolean): { source: string; line: number; column: number } | null {
  for (let at = offset; at >= 0 && at >= offset - (isCall ? CALL_LOOKBACK_BYTES : 0); at--) {
    const found = originalPositionFor(map, { line: 1, column: at });
    if (found.source !== null) return { source: found.source, line: found.line, column: found.column };
  }
  return null;
}

function findSourceMap(bytes: Uint8Array, wasmPath: string | undefined): string | null {
  if (wasmPath === undefined) return null;
  const next = `${wasmPath}.map`;
  if (existsSync(next)) return next;
  let url: string | null;
  try {
    url = sourceMappingUrlOf(bytes);
  } catch {
    return null;
  }
  if (url === null) return null;
  const path = url.startsWith("file:") ? fileURLToPath(url) : /^[a-z][a-z0-9+.-]*:/i.test(url) ? null : resolve(dirname(wasmPath), url);
  return path !== null && existsSync(path) ? path : null;
}

/** A file on disk relative to the working directory; a source that is not (the standard library) from `~lib/`. */
function displayPath(source: string): string {
  const path = source.startsWith("file:") ? fileURLToPath(source) : source;
  if (isAbsolute(path) && existsSync(path)) return relative(process.cwd(), path) || path;
  const lib = path.indexOf("~lib/");
  return lib >= 0 ? path.slice(lib) : path;
}

/** asc names a function by its file and path (`assembly/index/Stream#onRequestHeaders`): the file is shown apart. */
function shortName(name: string | null): string | null {
  if (name === null) return null;
  const head = name.search(/[<#]/);
  const slash = name.lastIndexOf("/", head < 0 ? name.length : head);
  return slash >= 0 ? name.slice(slash + 1) : name;
}

function where(f: TrapFrame): string {
  return `${f.file}:${f.line}:${f.column}`;
}
