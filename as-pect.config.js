// as-pect 8 imports this file as an ES module (package.json has "type": "module").
export default {
  entries: ["tests/assembly/**/*.spec.ts"],
  // Without an include glob as-pect falls back to assembly/__tests__/**, which is SDK territory.
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // The context table (assembly/dispatcher/registry.ts) can ask the host whether a context is still there:
    // these specs' contexts all are.
    return instantiate(binary, createImports({ env: { memory, proxy_set_effective_context: () => 0 } }));
  },
  outputBinary: false,
};
