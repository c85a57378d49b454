// The SDK's runtime (assembly/runtime/heap.ts: mark and sweep over size-class free lists) in place
// of asc's stub. asc only takes a custom runtime as a file path, and with one it also adds a shadow
// stack to every function (5 KB more in a small filter); so the preset names the stub, which adds
// nothing, and this transform swaps the stub's functions for the SDK's before they are resolved.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Parser, Source } from "assemblyscript";
import { isSdk } from "./sources.js";

/** This file is dist/transform/runtime.js once compiled; the AssemblyScript sources ship beside dist/. */
const HEAP_FILE = fileURLToPath(new URL("../../assembly/runtime/heap.ts", import.meta.url));
const HEAP_PATH = "~lib/proxy-wasm-as/assembly/runtime/heap.ts";
const STUB_PATH = "~lib/rt/stub";

export function useSdkRuntime(parser: Parser): void {
  const stub = parser.sources.find((source: Source) => source.internalPath === STUB_PATH);
  // Another runtime was chosen on purpose, or this is not a filter built on the SDK.
  if (!stub || !parser.sources.some(isSdk)) return;
  stub.statements.length = 0;
  parser.parseFile(readFileSync(HEAP_FILE, "utf8"), HEAP_PATH, false);
}
