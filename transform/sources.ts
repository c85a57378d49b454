// The parsed sources as the transform sees them: the SDK's exports.ts, the rest of the SDK, the
// compiler's standard library, and the user's code (the filter and any other package it imports).
import type { Source } from "assemblyscript";
import { libraryFiles, libraryPrefix } from "assemblyscript/asc";

/** Where asc puts the SDK's sources when a filter imports the package "proxy-wasm-as". */
const SDK_PREFIX = `${libraryPrefix}proxy-wasm-as/`;
const SDK_EXPORTS = `${SDK_PREFIX}assembly/exports.ts`;

export function isSdk(source: Source): boolean {
  const path = source.normalizedPath;
  return path === `${SDK_PREFIX}index.ts` || path.startsWith(`${SDK_PREFIX}assembly/`);
}

function isStandardLibrary(source: Source): boolean {
  const path = source.normalizedPath;
  return path.startsWith(libraryPrefix) && Object.hasOwn(libraryFiles, path.slice(libraryPrefix.length).replace(/\.ts$/, ""));
}

/** The SDK's exports.ts, parsed only when the filter re-exports it. */
export function sdkExports(sources: Source[]): Source | null {
  return sources.find((source) => source.normalizedPath === SDK_EXPORTS) ?? null;
}

export function userSources(sources: Source[]): Source[] {
  return sources.filter((source) => !isSdk(source) && !isStandardLibrary(source));
}
