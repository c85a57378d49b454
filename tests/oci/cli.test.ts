// The package, push, pull and inspect commands as a user runs them, against a real registry.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { sha256Digest } from "../../oci/digest.js";
import { buildImage, imageFromManifest } from "../../oci/image.js";
import { writeLayout } from "../../oci/layout.js";
import { parseReference } from "../../oci/reference.js";
import { pushImage } from "../../oci/transfer.js";
import { runCli } from "./support/hostile-registry.js";
import { pluginWasm } from "./support/plugin.js";
import { freePort, htpasswdLine, htpasswdUnavailable, registryUnavailable, startRegistry, type Registry } from "./support/registry.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "cli", "main.js");
const cliAsync = (args: string[]) => runCli(CLI, args);

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("package, push, pull and inspect commands", { skip: registryUnavailable || htpasswdUnavailable, timeout: 240_000 }, () => {
  let open: Registry;
  let locked: Registry;
  let dir: string;
  let plugin: string;
  before(async () => {
    [open, locked] = await Promise.all([startRegistry(), startRegistry({ htpasswd: htpasswdLine("carol", "pa55") })]);
    dir = await mkdtemp(join(tmpdir(), "pwas-cli-"));
    plugin = join(dir, "plugin.wasm");
    await writeFile(plugin, pluginWasm("cli"));
  });
  after(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("packages a layout, pushes it, inspects it and pulls plugin.wasm back unchanged", async () => {
    const packaged = cli(["package", plugin, "--output", join(dir, "layout"), "--root-id", "r", "--json"]);
    assert.equal(packaged.code, 0, packaged.stderr);
    const { digest } = JSON.parse(packaged.stdout);
    const pushed = cli(["push", join(dir, "layout"), `${open.host}/cli/filter:v1`, "--plain-http"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.stdout, `${digest}\noci://${open.host}/cli/filter:v1@${digest}\n`);
    const again = cli(["push", plugin, `${open.host}/cli/filter:v2`, "--plain-http", "--root-id", "r", "--json"]);
    assert.equal(JSON.parse(again.stdout).digest, digest, "packaging on the fly gives the same image");
    const inspected = cli(["inspect", `${open.host}/cli/filter:v1`, "--plain-http", "--json"]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(JSON.parse(inspected.stdout).format, "compat");
    const pulled = cli(["pull", `oci://${open.host}/cli/filter@${digest}`, "--plain-http", "--output", join(dir, "back.wasm")]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok((await readFile(join(dir, "back.wasm"))).equals(await readFile(plugin)));
  });

  it("logs in with flags, the environment or the docker config", async () => {
    const ref = `${locked.host}/cli/private:v1`;
    const refused = cli(["push", plugin, ref, "--plain-http"], { DOCKER_CONFIG: dir });
    assert.doesNotMatch(refused.stderr, /warning/, "no credentials, nothing to warn about");
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `proxy-wasm-as push: ${locked.host} requires a login: pass --username and --password, or log in with docker\n`);
    const withFlags = cli(["push", plugin, ref, "--plain-http", "--username", "carol", "--password", "pa55"]);
    assert.equal(withFlags.code, 0);
    assert.equal(
      withFlags.stderr,
      `proxy-wasm-as push: warning: --plain-http sends the credentials for ${locked.host} unencrypted; anyone on the path can read them\n`,
    );
    const env = { PROXY_WASM_AS_REGISTRY_USERNAME: "carol", PROXY_WASM_AS_REGISTRY_PASSWORD: "pa55" };
    assert.equal(cli(["pull", ref, "--plain-http", "-o", join(dir, "env.wasm")], env).code, 0);
    await writeFile(join(dir, "config.json"), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from("carol:pa55").toString("base64") } } }));
    assert.equal(cli(["inspect", ref, "--plain-http"], { DOCKER_CONFIG: dir }).code, 0);
  });

  it("packages and pushes each format, and inspect says Istio would load it", async () => {
    // One format after another, the formats side by side: the CLI runs dominate this test's time.
    const each = ["docker", "compat", "oci", "wasme"].map(async (format) => {
      const layout = join(dir, `layout-${format}`);
      const packaged = await cliAsync(["package", plugin, "--format", format, "--output", layout, "--json"]);
      assert.equal(packaged.code, 0, packaged.stderr);
      const { digest } = JSON.parse(packaged.stdout);
      const ref = `${open.host}/cli/${format}:v1`;
      const pushed = await cliAsync(["push", layout, ref, "--plain-http", "--json"]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.equal(JSON.parse(pushed.stdout).digest, digest);
      const onTheFly = await cliAsync(["push", plugin, ref, "--plain-http", "--format", format, "--json"]);
      assert.equal(JSON.parse(onTheFly.stdout).digest, digest, `${format}: packaging on the fly gives the same image`);
      const inspected = await cliAsync(["inspect", ref, "--plain-http"]);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.match(inspected.stdout, new RegExp(`^format:    ${format === "wasme" ? "oci" : format}$`, "m"));
      assert.match(inspected.stdout, /^istio:     would load this image$/m);
    });
    await Promise.all(each);
  });

  it("refuses to package or push an empty module, and inspect exits 1 on an image holding one (issue 15)", async () => {
    const empty = join(dir, "empty.wasm");
    await writeFile(empty, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    const reason = "the module is not one Envoy would load: Missing or unknown Proxy-Wasm ABI version";
    for (const args of [["package", empty, "-o", join(dir, "empty-layout")], ["push", empty, `${open.host}/cli/empty:v1`, "--plain-http"]]) {
      const refused = cli(args);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`^proxy-wasm-as ${args[0]}: ${reason}`));
    }
    // A layout written by another tool around the same module is refused by push too.
    const layout = join(dir, "foreign-layout");
    const image = buildImage(pluginWasm("placeholder"), { format: "oci" });
    const manifest = JSON.parse(image.manifest.toString("utf8"));
    const bytes = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    image.blobs.delete(manifest.layers[1].digest);
    manifest.layers[1] = { ...manifest.layers[1], digest: sha256Digest(bytes), size: 8 };
    image.blobs.set(sha256Digest(bytes), bytes);
    await writeLayout(layout, imageFromManifest(manifest, image.blobs));
    const fromLayout = cli(["push", layout, `${open.host}/cli/empty:v1`, "--plain-http"]);
    assert.equal(fromLayout.code, 1);
    assert.match(fromLayout.stderr, new RegExp(`^proxy-wasm-as push: ${reason}`));
    // Pushed by hand anyway, inspect says Istio would not load it, and exits 1.
    const ref = parseReference(`${open.host}/cli/empty:v1`);
    await pushImage(imageFromManifest(manifest, image.blobs), ref, { plainHttp: true });
    const inspected = cli(["inspect", `${open.host}/cli/empty:v1`, "--plain-http"]);
    assert.equal(inspected.code, 1);
    assert.match(inspected.stdout, /^istio:     would NOT load this image: Envoy would refuse the module: Missing or unknown Proxy-Wasm ABI version/m);
    assert.match(inspected.stderr, /^proxy-wasm-as inspect: Istio would not load this image: Envoy would refuse the module: Missing/);
  });

  it("fails with one line and exit code 1", async () => {
    const port = await freePort();
    const unreachable = cli(["push", plugin, `127.0.0.1:${port}/x/y:v1`, "--plain-http"]);
    assert.equal(unreachable.code, 1);
    assert.equal(unreachable.stderr, `proxy-wasm-as push: cannot reach http://127.0.0.1:${port}: connection refused\n`);
    const missing = cli(["pull", `${open.host}/cli/absent:v1`, "--plain-http"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^proxy-wasm-as pull: .*absent:v1 not found\n$/);
    const notWasm = cli(["package", CLI]);
    assert.equal(notWasm.code, 1);
    assert.match(notWasm.stderr, /^proxy-wasm-as package: the module is not one Envoy would load: .*not a wasm module/);
    assert.equal(
      cli(["package", plugin, "--format", "nope"]).stderr,
      'proxy-wasm-as package: bad --format "nope": docker, compat, oci (or wasme, the old name of oci)\n',
    );
  });
});
