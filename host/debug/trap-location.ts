// Where a trap happened, in the filter's source: V8 names each wasm frame of an error's stack by function index
// and module byte offset; the name section (or the names `build` keeps in the source map) gives the function,
// the source map next to the module gives file:line:column. Envoy (cpp-host v8.cc getFailMessage) prints the same
// frames as "Proxy-Wasm plugin in-VM backtrace:" with names only, and nothing without a name section.

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { decodedMappings, isIgnored, originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import {
  functionBodies,
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
  /**
   * A library frame of a release build, where the optimizer inlined the filter's code into the SDK's and the
   * standard library's: the nearest source position of the filter's own code before it in the same function.
   */
  nearestOwn: { file: string; line: number; column: number } | null;
}

interface LoadedMap {
  map: TraceMap;
  names: Uint8Array | null;
}

/** A build's map is well under 1 MiB; past this (or not a regular file) it is not read, and traps go without lines. */
const MAX_MAP_BYTES = 64 * 1024 * 1024;

/** Source maps read, by path, size and mtime: many plugins of one build read it once. */
const maps = new Map<string, LoadedMap | null>();

function readMap(path: string): LoadedMap | null {
  let key: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > MAX_MAP_BYTES) return null;
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
    /** Each function body's byte range, by position: how far back the filter's own inlined code may be. */
    private readonly bodies: { start: number; end: number }[],
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
    let bodies: { start: number; end: number }[] = [];
    try {
      if (loaded) bodies = functionBodies(bytes);
    } catch {
      bodies = [];
    }
    return new ModuleDebugInfo(names, loaded?.map ?? null, loaded ? resolve(path!) : null, added, bodies);
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
      const frame: TrapFrame = {
        functionIndex,
        offset,
        function: this.names.get(functionIndex) ?? null,
        file: null,
        line: null,
        column: null,
        library: false,
        nearestOwn: null,
      };
      const at = map ? sourceAt(map, offset, frames.length > 0) : null;
      if (at) {
        frame.file = displayPath(at.source);
        frame.line = at.line;
        frame.column = at.column + 1;
        frame.library = isLibrary(map!, at.source);
        if (frame.library) frame.nearestOwn = nearestOwnSource(map!, offset, bodyAround(this.bodies, offset));
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
    if (this.names.size === 0 && this.map === null) return "";
    const frames = this.frames(error);
    if (frames.length === 0) return "";
    const lines: string[] = [];
    const own = frames.find((f) => f.file !== null && !f.library);
    const inlined = own ? undefined : frames.find((f) => f.nearestOwn !== null);
    const first = frames.find((f) => f.file !== null);
    if (own) lines.push(`  at ${frameName(own)} (${where(own)})`);
    else if (inlined) {
      const near = inlined.nearestOwn!;
      lines.push(`  at ${frameName(inlined)} (${near.file}:${near.line}:${near.column})`);
      lines.push(
        `  (the nearest line of the filter's own code: the optimizer inlined it into ${where(inlined)}, where it trapped; ` +
          `\`proxy-wasm-as build --target debug\` gives exact lines)`,
      );
    } else if (first) {
      lines.push(`  at ${frameName(first)} (${where(first)})`);
      lines.push("  (no line of the filter's own code is left in this build: `proxy-wasm-as build --target debug` gives exact lines)");
    }
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

function isLibrary(map: TraceMap, source: string): boolean {
  return isIgnored(map, source) || displayPath(source).startsWith("~lib/");
}

/** The function body holding `offset`, or null. */
function bodyAround(bodies: { start: number; end: number }[], offset: number): { start: number; end: number } | null {
  let lo = 0;
  let hi = bodies.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bodies[mid].end <= offset) lo = mid + 1;
    else if (bodies[mid].start > offset) hi = mid - 1;
    else return bodies[mid];
  }
  return null;
}

/**
 * The filter's own position nearest before `offset` in its function: binaryen keeps the source positions of
 * inlined code, so the filter's statement that led into inlined library code precedes it in the same body.
 */
function nearestOwnSource(map: TraceMap, offset: number, body: { start: number; end: number } | null): { file: string; line: number; column: number } | null {
  if (body === null) return null;
  const segments = decodedMappings(map)[0] ?? [];
  const sources = map.resolvedSources;
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid][0] <= offset) lo = mid + 1;
    else hi = mid - 1;
  }
  for (let i = hi; i >= 0 && segments[i][0] >= body.start; i--) {
    const segment = segments[i];
    if (segment.length < 4) continue;
    const [, sourceIndex, line, column] = segment as readonly [number, number, number, number];
    const source = sources[sourceIndex];
    if (source === undefined || source === null || isLibrary(map, source)) continue;
    return { file: displayPath(source), line: line + 1, column: column + 1 };
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

function frameName(f: TrapFrame): string {
  return shortName(f.function) ?? `wasm-function[${f.functionIndex}]`;
}

function where(f: TrapFrame): string {
  return `${f.file}:${f.line}:${f.column}`;
}
