// `build` writes plugin.wasm.map next to the module; the module is the same bytes asc writes without a map; the
// map's sources are the files on disk; the build cache counts the map as an output.

import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, it } from "node:test";
import asc from "assemblyscript/asc";
import { build } from "../../cli/commands/build.js";
import { customSections } from "../../host/debug/custom-sections.js";
import { NAME_SECTION_FIELD } from "../../host/debug/trap-location.js";
import { trapsDir, trapsSource } from "./traps.js";

const out = mkdtempSync(join(tmpdir(), "pwas-map-"));
after(() => rmSync(out, { recursive: true, force: true }));

it("writes the map, leaves the module as asc writes it without one, and rebuilds when the map changes", async () => {
  const wasm = join(out, "plugin.wasm");
  const first = await build(trapsDir, { quiet: true, outFile: wasm });
  assert.equal(first.upToDate, false);
  const module = readFileSync(wasm);
  assert.deepEqual(customSections(module).map((s) => s.name).filter((n) => n === "sourceMappingURL" || n === "name"), []);

  const plain = join(out, "plain.wasm");
  const { error } = await asc.main(["--baseDir", trapsDir, "--config", "asconfig.json", "--target", "release", "--outFile", plain], {
    stdout: asc.createMemoryStream(),
    stderr: asc.createMemoryStream(),
  });
  assert.equal(error, null);
  assert.ok(readFileSync(plain).equals(module), "the module is byte for byte what asc writes without --sourceMap");

  const map = JSON.parse(readFileSync(`${wasm}.map`, "utf8")) as Record<string, unknown> & { sources: string[]; x_google_ignoreList: number[] };
  assert.equal(map.sourceRoot, undefined);
  const onDisk = map.sources.map((s) => resolve(dirname(wasm), s));
  assert.ok(onDisk.includes(trapsSource), `the filter's source is named by its path: ${map.sources.join(", ")}`);
  const own = onDisk.indexOf(trapsSource);
  assert.ok(!map.x_google_ignoreList.includes(own), "the filter's own source is not on the ignore list");
  assert.ok(map.sources.some((s, i) => s.startsWith("~lib/") && map.x_google_ignoreList.includes(i)), "the standard library is");
  assert.equal(typeof map[NAME_SECTION_FIELD], "string", "the release map keeps the name section");

  assert.equal((await build(trapsDir, { quiet: true, outFile: wasm })).upToDate, true);
  appendFileSync(`${wasm}.map`, " ");
  const again = await build(trapsDir, { quiet: true, outFile: wasm });
  assert.equal(again.upToDate, false, "a changed map is rebuilt");
  assert.ok(existsSync(`${wasm}.map`));
});
