// `test --inspect` as a debugger sees it: a test process started under node's inspector with the wait switched on
// stops once it has loaded the filter; a debugger connects over WebSocket, sets a breakpoint by AssemblyScript source
// line (through the source map V8 reports), lets it run, and the request stops there.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { before, it } from "node:test";
import { pathToFileURL } from "node:url";
import { allGeneratedPositionsFor, originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { build } from "../../cli/commands/build.js";
import { WAIT_FOR_DEBUGGER_ENV } from "../../host/debug/inspect.js";
import { repoRoot } from "../support/plugins.js";
import { CdpClient, type CdpEvent } from "./support/cdp-client.js";
import { markerLine, trapsDir, trapsSource } from "./traps.js";

const debugWasm = `${trapsDir}/build/debug.wasm`;

/** What a test file does: load the filter, run a request. */
const TEST_PROCESS = `
import { createPlugin } from ${JSON.stringify(pathToFileURL(`${repoRoot}dist/host/index.js`).href)};
const plugin = createPlugin(${JSON.stringify(debugWasm)}, { configuration: "pass" });
plugin.start();
const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/"]] });
console.log("request done, stopped:", result.stopped);
`;

before(async () => {
  await build(trapsDir, { target: "debug", quiet: true });
});

it("waits for a debugger once the filter is loaded; a breakpoint by source line then stops the request", async () => {
  const child = spawn(process.execPath, ["--inspect=127.0.0.1:0", "--input-type=module", "-e", TEST_PROCESS], {
    env: { ...process.env, [WAIT_FOR_DEBUGGER_ENV]: "1", PROXY_WASM_AS_CALLBACK_DEADLINE_MS: "0", NODE_TEST_CONTEXT: "" },
  });
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const waiting = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = /waiting for a debugger on (ws:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on("exit", () => reject(new Error(`exited without waiting: ${stderr}`)));
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let client: CdpClient | null = null;
  try {
    const url = await waiting;
    assert.equal(stdout, "", "nothing ran past the wait");
    client = await CdpClient.connect(url);
    const mapUrl = pathToFileURL(`${debugWasm}.map`).href;
    const events: CdpEvent[] = [];
    let paused: (e: CdpEvent) => void = () => {};
    const pausedOnce = new Promise<CdpEvent>((resolve) => (paused = resolve));
    client.onEvent((e) => {
      events.push(e);
      if (e.method === "Debugger.paused") paused(e);
    });
    await client.send("Debugger.enable");
    const script = events.find((e) => e.method === "Debugger.scriptParsed" && e.params.sourceMapURL === mapUrl);
    assert.ok(script, "V8 reported the module with its source map");
    const map = new TraceMap(JSON.parse(readFileSync(new URL(mapUrl), "utf8")), mapUrl);
    const line = markerLine("break: headerCount");
    const offsets = allGeneratedPositionsFor(map, { source: pathToFileURL(trapsSource).href, line, column: 0 }).map((p) => p.column);
    await client.send("Debugger.setBreakpoint", { location: { scriptId: script.params.scriptId, lineNumber: 0, columnNumber: Math.min(...offsets) } });
    await client.send("Runtime.runIfWaitingForDebugger");

    const pause = await pausedOnce;
    const frame = (pause.params.callFrames as { location: { columnNumber: number }; functionName: string }[])[0];
    assert.equal(originalPositionFor(map, { line: 1, column: frame.location.columnNumber }).line, line);
    assert.match(frame.functionName, /TrapStream#onRequestHeaders/);
    await client.send("Debugger.resume");
    client.close(); // node waits at exit for the debugger to go
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /request done, stopped: null/);
  } finally {
    clearTimeout(timer);
    client?.close();
    child.kill("SIGKILL");
  }
});
