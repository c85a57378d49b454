// A debugger sets a breakpoint in the AssemblyScript source and stops there during a request, with the locals
// readable: what VS Code or Chrome DevTools do through node's inspector protocol (here an in-process session).
// V8 reports the module with its source map URL; the debugger maps source line -> byte offset through the map,
// sets the breakpoint there, and maps the paused location back.

import assert from "node:assert/strict";
import inspector from "node:inspector";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { allGeneratedPositionsFor, originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { build } from "../../cli/commands/build.js";
import { createPlugin } from "../../host/index.js";
import { markerLine, trapsDir, trapsSource } from "./traps.js";

interface ScriptParsed {
  scriptId: string;
  url: string;
  sourceMapURL?: string;
}
interface CallFrame {
  callFrameId: string;
  functionName: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
  scopeChain: { type: string; object: { objectId: string } }[];
}
interface Property {
  name: string;
  value?: { objectId?: string; value?: unknown; subtype?: string };
}

const debugWasm = `${trapsDir}/build/debug.wasm`;

describe("breakpoints in the AssemblyScript source", () => {
  const session = new inspector.Session();
  const scripts: ScriptParsed[] = [];
  /** Session.post answers synchronously in-process, also while paused. */
  const post = <T>(method: string, params?: object): T => {
    let result: unknown;
    let error: Error | null = null;
    session.post(method, params, (e, r) => {
      error = e;
      result = r;
    });
    if (error) throw error;
    return result as T;
  };

  before(async () => {
    await build(trapsDir, { target: "debug", quiet: true });
    session.connect();
    session.on("Debugger.scriptParsed", (m: { params: ScriptParsed }) => {
      if (m.params.url.startsWith("wasm://")) scripts.push(m.params);
    });
    post("Debugger.enable");
  });
  after(() => session.disconnect());

  it("stops at the line set in assembly/index.ts during a request, with its locals readable", () => {
    const plugin = createPlugin(debugWasm, { configuration: "pass", callbackDeadlineMs: 0 });
    assert.equal(plugin.start().ok, true);

    const mapUrl = pathToFileURL(`${debugWasm}.map`).href;
    const script = scripts.find((s) => s.sourceMapURL === mapUrl);
    assert.ok(script, `V8 reported no module with source map ${mapUrl}: ${JSON.stringify(scripts)}`);
    const map = new TraceMap(JSON.parse(readFileSync(new URL(mapUrl), "utf8")), mapUrl);
    const line = markerLine("break: headerCount");
    const sourceUrl = pathToFileURL(trapsSource).href;
    assert.ok(map.resolvedSources.includes(sourceUrl), `the map names ${sourceUrl}`);
    const offsets = allGeneratedPositionsFor(map, { source: sourceUrl, line, column: 0 }).map((p) => p.column);
    assert.ok(offsets.length > 0, `no code for ${sourceUrl}:${line}`);
    const set = post<{ actualLocation: { columnNumber: number } }>("Debugger.setBreakpoint", {
      location: { scriptId: script.scriptId, lineNumber: 0, columnNumber: Math.min(...offsets) },
    });
    assert.equal(originalPositionFor(map, { line: 1, column: set.actualLocation.columnNumber }).line, line);

    const pauses: { function: string; source: string | null; line: number | null; locals: Map<string, unknown> }[] = [];
    const onPaused = (m: { params: { callFrames: CallFrame[] } }) => {
      const frame = m.params.callFrames[0];
      const at = originalPositionFor(map, { line: 1, column: frame.location.columnNumber });
      const locals = new Map<string, unknown>();
      const scope = frame.scopeChain.find((s) => s.type === "local");
      if (scope) {
        for (const p of post<{ result: Property[] }>("Runtime.getProperties", { objectId: scope.object.objectId, ownProperties: true }).result) {
          // A wasm local is a {type, value} object.
          const inner = p.value?.objectId ? post<{ result: Property[] }>("Runtime.getProperties", { objectId: p.value.objectId, ownProperties: true }).result : [];
          locals.set(p.name, inner.find((q) => q.name === "value")?.value?.value);
        }
      }
      pauses.push({ function: frame.functionName, source: at.source, line: at.line, locals });
      post("Debugger.resume");
    };
    session.on("Debugger.paused", onPaused);
    try {
      const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/"], ["x-one", "1"]] });
      assert.equal(result.stopped, null, "the request goes on after the debugger resumes");
    } finally {
      session.off("Debugger.paused", onPaused);
    }

    process.stdout.write(`paused at ${pauses[0]?.source}:${pauses[0]?.line} in ${pauses[0]?.function}, locals ${JSON.stringify([...(pauses[0]?.locals ?? [])])}\n`);
    assert.equal(pauses.length, 1);
    const [pause] = pauses;
    assert.equal(pause.source, sourceUrl);
    assert.equal(pause.line, line);
    assert.match(pause.function, /TrapStream#onRequestHeaders/);
    const numHeaders = pause.locals.get("$numHeaders");
    assert.equal(typeof numHeaders, "number", `locals: ${JSON.stringify([...pause.locals])}`);
    assert.ok((numHeaders as number) >= 2);
    assert.equal(pause.locals.get("$headerCount"), (numHeaders as number) * 10);
  });
});
