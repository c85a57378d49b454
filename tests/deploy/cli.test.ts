// The generate and migrate commands as a user runs them: YAML on stdout that Istio's schemas accept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { istioSchemaErrors, schemasUnavailable } from "./support/istio-schemas.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, "..", "..", "cli", "main.js");
const FIXTURES = join(HERE, "..", "..", "..", "tests", "fixtures", "migrate");

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("generate and migrate commands", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwas-generate-"));
    await writeFile(join(dir, "config.yaml"), "header: x-hello\nvalues: [1, 2]\n");
    await writeFile(join(dir, "plugin.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("generate wasmplugin prints a WasmPlugin Istio accepts", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "wasmplugin", "--url", `oci://127.0.0.1:5000/f:v1@sha256:${"a".repeat(64)}`, "--name", "add-header",
      "--namespace", "bookinfo", "--root-id", "add_header", "--config-file", join(dir, "config.yaml"), "--phase", "AUTHZ",
      "--priority", "10", "--fail-strategy", "FAIL_OPEN", "--selector", "app=reviews", "--pull-policy", "Always", "--type", "HTTP",
    );
    assert.equal(out.code, 0, out.stderr);
    const plugin = parse(out.stdout);
    assert.deepEqual(plugin.spec.pluginConfig, { header: "x-hello", values: [1, 2] });
    assert.equal(plugin.spec.priority, 10);
    assert.deepEqual(istioSchemaErrors(plugin), []);
  });

  it("generate envoyfilter prints an EnvoyFilter Istio accepts, with the config as JSON text", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "envoyfilter", "--url", "https://example.com/plugin.wasm", "--sha256", "b".repeat(64), "--name", "add-header",
      "--config-file", join(dir, "config.yaml"), "--selector", "app=reviews",
    );
    assert.equal(out.code, 0, out.stderr);
    const filter = parse(out.stdout);
    assert.equal(filter.spec.configPatches[0].patch.value.typed_config.config.configuration.value, '{"header":"x-hello","values":[1,2]}');
    assert.deepEqual(istioSchemaErrors(filter), []);
  });

  it("generate envoy prints a bootstrap, or writes it with a compose file", async () => {
    const out = cli("generate", "envoy", join(dir, "plugin.wasm"), "--config", "hello", "--upstream", "127.0.0.1:8080", "--cluster", "auth=auth.local:9000");
    assert.equal(out.code, 0, out.stderr);
    const bootstrap = parse(out.stdout);
    assert.deepEqual(bootstrap.static_resources.clusters.map((c: { name: string }) => c.name), ["upstream", "auth"]);
    const compose = cli("generate", "envoy", join(dir, "plugin.wasm"), "--compose", "--output", join(dir, "envoy"));
    assert.equal(compose.code, 0, compose.stderr);
    const composeYaml = parse(await readFile(join(dir, "envoy", "docker-compose.yaml"), "utf8"));
    assert.deepEqual(composeYaml.services.envoy.volumes, ["./envoy.yaml:/etc/envoy/envoy.yaml:ro", "../plugin.wasm:/etc/envoy/plugin.wasm:ro"]);
    const inContainer = parse(await readFile(join(dir, "envoy", "envoy.yaml"), "utf8"));
    const wasm = inContainer.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0];
    assert.equal(wasm.typed_config.config.vm_config.code.local.filename, "/etc/envoy/plugin.wasm");
  });

  it("migrate prints WasmPlugins on stdout and notes on stderr", { skip: schemasUnavailable }, () => {
    const out = cli("migrate", join(FIXTURES, "mixed.yaml"));
    assert.equal(out.code, 0, out.stderr);
    const plugins = parseAllDocuments(out.stdout).map((d) => d.toJS());
    assert.deepEqual(plugins.map((p) => p.metadata.name), ["stats-plugin", "plain"]);
    for (const plugin of plugins) assert.deepEqual(istioSchemaErrors(plugin), []);
    assert.match(out.stderr, /^note: .*mixed\.yaml: ConfigMap unrelated: not a wasme/m);
  });

  it("fails with one line and exit code 1", () => {
    const badPhase = cli("generate", "wasmplugin", "--url", "oci://a.io/b:c", "--name", "x", "--phase", "LATE");
    assert.equal(badPhase.code, 1);
    assert.equal(badPhase.stderr, 'proxy-wasm-as generate wasmplugin: bad --phase "LATE": one of AUTHN, AUTHZ, STATS\n');
    const missing = cli("migrate", join(dir, "nope.yaml"));
    assert.equal(missing.stderr, `proxy-wasm-as migrate: cannot read ${join(dir, "nope.yaml")}: ENOENT\n`);
    assert.equal(cli("generate", "wasmplugin", "--name", "x").code, 1);
  });
});
