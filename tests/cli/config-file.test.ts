// Configuration files are read with a bound (issue 14 item 12): /dev/zero, a FIFO fed forever or a
// file over the limit end in an error naming the file and the limit, quickly, in every command that
// reads one. Each command runs under a 2 GB address-space cap and a time limit, so an unbounded read
// fails the test instead of taking the machine's memory.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CONFIG_FILE_LIMIT, readConfigFile } from "../../cli/config-file.js";
import { cliMain } from "../devproxy/support.js";
import { repoRoot } from "../support/plugins.js";

const WASM = `${repoRoot}examples/add-header/build/plugin.wasm`;
const URL = `oci://127.0.0.1:5000/f:v1@sha256:${"a".repeat(64)}`;

/** The CLI under `ulimit -v` (about 2 GB) and a 30 s limit. */
function cli(args: string[]) {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const result = spawnSync("bash", ["-c", `ulimit -v 2000000; exec '${process.execPath}' '${cliMain}' ${quoted}`], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: result.status, signal: result.signal, stderr: result.stderr };
}

function assertRefused(out: ReturnType<typeof cli>, path: string): void {
  assert.equal(out.signal, null, `killed by ${out.signal}: the read did not stop (stderr: ${out.stderr.slice(0, 300)})`);
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, new RegExp(`${path.replace(/[/.]/g, "\\$&")} is larger than 4 MiB`));
}

const COMMANDS: [string, (file: string) => string[]][] = [
  ["simulate --config-file", (f) => ["simulate", WASM, "--config-file", f]],
  ["run --config-file", (f) => ["run", WASM, "--port", "0", "--admin-port", "0", "--config-file", f]],
  ["generate wasmplugin --config-file", (f) => ["generate", "wasmplugin", "--url", URL, "--name", "f", "--config-file", f]],
  ["generate envoy --config-file", (f) => ["generate", "envoy", WASM, "--config-file", f]],
  ["migrate", (f) => ["migrate", f]],
];

describe("bounded configuration files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "pwas-config-file-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, args] of COMMANDS) {
    it(`${name} /dev/zero stops at the limit`, () => assertRefused(cli(args("/dev/zero")), "/dev/zero"));
  }

  it("a file over the limit is refused before it is read; one at the limit is read whole", () => {
    const big = join(dir, "big.json");
    writeFileSync(big, "");
    truncateSync(big, CONFIG_FILE_LIMIT + 1);
    assertRefused(cli(["generate", "envoy", WASM, "--config-file", big]), big);
    truncateSync(big, CONFIG_FILE_LIMIT);
    assert.equal(readConfigFile(big).length, CONFIG_FILE_LIMIT);
  });

  it("a FIFO fed forever stops at the limit", async () => {
    const fifo = join(dir, "config.fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
    const writer = spawn("bash", ["-c", `exec yes '{"a":1}' > '${fifo}'`], { stdio: "ignore" });
    const exited = new Promise((resolve) => writer.on("exit", resolve));
    try {
      assertRefused(cli(["simulate", WASM, "--config-file", fifo]), fifo);
    } finally {
      writer.kill();
      await exited;
    }
  });

  it("the limit is exact, for a file and for a device", () => {
    const small = join(dir, "small.json");
    writeFileSync(small, "0123456789");
    assert.equal(readConfigFile(small, 10).toString(), "0123456789");
    assert.throws(() => readConfigFile(small, 9), /small\.json is larger than 9 bytes/);
    assert.throws(() => readConfigFile("/dev/zero", 100_000), /\/dev\/zero is larger than 100,000 bytes/);
  });

  it("a missing file or a folder gives the reason", () => {
    assert.throws(() => readConfigFile(join(dir, "nope.json")), new RegExp(`cannot read .*nope\\.json: ENOENT`));
    assert.throws(() => readConfigFile(dir), /cannot read .*: EISDIR/);
    const out = cli(["simulate", WASM, "--config-file", join(dir, "nope.json")]);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /cannot read .*nope\.json: ENOENT/);
  });
});
