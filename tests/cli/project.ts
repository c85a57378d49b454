// A filter project in a temp folder, resolving proxy-wasm-as to this checkout (as `init --sdk` would):
// add-header's sources with a header value the tests can change.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../support/plugins.js";

export function tempProject(prefix: string): { dir: string; setHeaderValue(value: string): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repoRoot, join(dir, "node_modules", "proxy-wasm-as"), "dir");
  mkdirSync(join(dir, "assembly"));
  writeFileSync(join(dir, "asconfig.json"), readFileSync(join(repoRoot, "templates", "add-header", "asconfig.json")));
  const source = readFileSync(join(repoRoot, "examples", "add-header", "assembly", "index.ts"), "utf8");
  if (!source.includes('"world"')) throw new Error("examples/add-header no longer adds hello: world");
  const setHeaderValue = (value: string) => writeFileSync(join(dir, "assembly", "index.ts"), source.replaceAll('"world"', JSON.stringify(value)));
  setHeaderValue("world");
  return { dir, setHeaderValue };
}
