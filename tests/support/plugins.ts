import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root, from dist/tests/support/. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The built plugin.wasm of an example (`npm test` builds them first). */
export function examplePlugin(name: string): Uint8Array {
  return readFileSync(`${repoRoot}examples/${name}/build/plugin.wasm`);
}

/** A test filter of tests/filters/ (built by `npm run build`). */
export function testFilter(name: string): Uint8Array {
  return readFileSync(`${repoRoot}tests/filters/${name}/build/plugin.wasm`);
}

/** The first value of `name` in a header list. */
export function headerValue(headers: [string, string][] | undefined, name: string): string | undefined {
  return headers?.find(([key]) => key === name)?.[1];
}
