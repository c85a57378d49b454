// What an object holds in collections: a test of "nothing grows without bound" asks for the
// biggest Array, Map or Set anywhere under a long-lived object (a VM, a plugin).

/** The biggest Array, Map or Set held by `value` or by anything it holds, `depth` levels down, and where. */
export function largestCollection(value: unknown, depth: number, seen = new Set<unknown>()): { path: string; size: number } {
  let best = { path: "", size: 0 };
  if (depth < 0 || value === null || typeof value !== "object" || seen.has(value) || ArrayBuffer.isView(value)) return best;
  seen.add(value);
  const collection = value instanceof Map || value instanceof Set || Array.isArray(value);
  const entries: [string, unknown][] =
    value instanceof Map ? [...value.entries()].map(([k, v]) => [`[${String(k)}]`, v])
    : value instanceof Set || Array.isArray(value) ? [...value].map((v, i) => [`[${i}]`, v])
    : Object.entries(value);
  if (collection) best = { path: "", size: entries.length };
  for (const [key, child] of entries) {
    const inner = largestCollection(child, depth - 1, seen);
    if (inner.size > best.size) best = { path: `${key.startsWith("[") ? "" : "."}${key}${inner.path}`, size: inner.size };
  }
  return best;
}
