// What Node gets for `import "proxy-wasm-as"`: that name is the AssemblyScript SDK, which asc compiles into a
// plugin; it does not run in Node. Editors read its declarations (dist/sdk/) through the `types` condition.
throw new Error(
  '"proxy-wasm-as" is the AssemblyScript SDK, compiled by asc into plugin.wasm; in Node, import "proxy-wasm-as/testing" (the host that runs plugins)',
);
