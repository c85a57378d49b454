// The transform runs inside whichever AssemblyScript compiler loads it (0.27 or 0.28), and 0.28
// renumbered the AST's NodeKind. asc's typings declare its enums `const enum`, so a plain
// `import { NodeKind } from "assemblyscript"` makes tsc inline the numbers of the compiler it was
// compiled against (`6 /* NodeKind.Identifier */`), and every build with the other line fails.
// transform/kinds.ts reads them by name at run time instead; this keeps it that way.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { it } from "node:test";
import { repoRoot } from "../support/plugins.js";

const INLINED = /\b\d+ \/\* [A-Z]\w*\.\w+ \*\//;

it("the compiled transform carries no inlined compiler enum", () => {
  const dir = `${repoRoot}dist/transform/`;
  const files = readdirSync(dir).filter((name) => name.endsWith(".js"));
  assert.ok(files.length > 0);
  for (const name of files) {
    const found = readFileSync(dir + name, "utf8").match(INLINED);
    assert.equal(found, null, `dist/transform/${name} inlines ${found?.[0]}: read the value from ./kinds.js`);
  }
});

