// as-pect 8 imports this file as an ES module (package.json has "type": "module").
export default {
  entries: ["tests/assembly/**/*.spec.ts"],
  // Without an include glob as-pect falls back to assembly/__tests__/**, which is SDK territory.
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
