// The generate and migrate commands as a user runs them: YAML on stdout that Istio's schemas accept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { schemaErrors, schemasUnavailable } from "./support/crd-schemas.js";
import { bootstrapErrors } from "./support/envoy-proto.js";

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
    assert.deepEqual(schemaErrors(plugin), []);
  });

  it("generate envoyfilter prints an EnvoyFilter Istio accepts, with the config as JSON text", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "envoyfilter", "--url", "https://example.com/plugin.wasm", "--sha256", "b".repeat(64), "--name", "add-header",
      "--config-file", join(dir, "config.yaml"), "--selector", "app=reviews",
    );
    assert.equal(out.code, 0, out.stderr);
    const filter = parse(out.stdout);
    assert.equal(filter.spec.configPatches[0].patch.value.typed_config.config.configuration.value, '{"header":"x-hello","values":[1,2]}');
    assert.deepEqual(schemaErrors(filter), []);
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
    assert.deepEqual(bootstrapErrors(inContainer), []);
    assert.deepEqual(bootstrapErrors(bootstrap), []);
  });

  it("migrate prints WasmPlugins on stdout and notes on stderr", { skip: schemasUnavailable }, () => {
    const out = cli("migrate", join(FIXTURES, "mixed.yaml"));
    assert.equal(out.code, 0, out.stderr);
    const plugins = parseAllDocuments(out.stdout).map((d) => d.toJS());
    assert.deepEqual(plugins.map((p) => p.metadata.name), ["stats-plugin", "plain"]);
    for (const plugin of plugins) assert.deepEqual(schemaErrors(plugin), []);
    assert.match(out.stderr, /^note: .*mixed\.yaml: ConfigMap unrelated: not a wasme/m);
  });

  it("generate trafficextension prints a TrafficExtension Istio accepts", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "trafficextension", "--url", "oci://ghcr.io/me/add-header:v1", "--name", "add-header", "--namespace", "bookinfo",
      "--config-file", join(dir, "config.yaml"), "--target-ref", "Gateway/edge", "--phase", "STATS", "--priority", "-1",
      "--fail-strategy", "FAIL_RELOAD", "--match", "CLIENT_AND_SERVER:80,443", "--env", "MODE=strict", "--host-env", "POD_NAME",
      "--pull-secret", "registry-login", "--type", "HTTP", "--root-id", "add_header", "--sha256", "e".repeat(64), "--pull-policy", "Always",
    );
    assert.equal(out.code, 0, out.stderr);
    const extension = parse(out.stdout);
    assert.equal(extension.kind, "TrafficExtension");
    assert.deepEqual(extension.spec.wasm.pluginConfig, { header: "x-hello", values: [1, 2] });
    assert.deepEqual(extension.spec.match, [{ mode: "CLIENT_AND_SERVER", ports: [{ number: 80 }, { number: 443 }] }]);
    assert.deepEqual(schemaErrors(extension), []);
  });

  it("generate wasmplugin writes FAIL_RELOAD, match and vmConfig.env", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "wasmplugin", "--url", "https://example.com/plugin.wasm", "--name", "p", "--fail-strategy", "FAIL_RELOAD",
      "--match", "SERVER:8080", "--env", "A=1", "--host-env", "B", "--json",
    );
    assert.equal(out.code, 0, out.stderr);
    const plugin = JSON.parse(out.stdout);
    assert.equal(plugin.spec.failStrategy, "FAIL_RELOAD");
    assert.deepEqual(plugin.spec.vmConfig.env, [{ name: "A", valueFrom: "INLINE", value: "1" }, { name: "B", valueFrom: "HOST" }]);
    assert.deepEqual(schemaErrors(plugin), []);
  });

  it("generate envoyextensionpolicy prints a policy Envoy Gateway accepts", { skip: schemasUnavailable }, () => {
    const out = cli(
      "generate", "envoyextensionpolicy", "--url", `oci://ghcr.io/me/add-header:v1@sha256:${"f".repeat(64)}`, "--name", "add-header",
      "--target-ref", "Gateway/eg", "--config-file", join(dir, "config.yaml"), "--fail-open", "--host-env", "POD_NAME",
      "--pull-secret", "registry-login", "--root-id", "add_header",
    );
    assert.equal(out.code, 0, out.stderr);
    const policy = parse(out.stdout);
    assert.equal(policy.spec.wasm[0].code.type, "Image");
    assert.deepEqual(policy.spec.wasm[0].config, { header: "x-hello", values: [1, 2] });
    assert.deepEqual(schemaErrors(policy), []);
    const noTarget = cli("generate", "envoyextensionpolicy", "--url", "oci://ghcr.io/me/f:v1", "--name", "p");
    assert.equal(noTarget.code, 1);
    assert.match(noTarget.stderr, /at least one --target-ref/);
  });

  it("generate envoy writes Envoy's failure policy, environment and stop-iteration switch, and says what the host runs", () => {
    const out = cli(
      "generate", "envoy", join(dir, "plugin.wasm"), "--failure-policy", "FAIL_RELOAD", "--reload-backoff", "1s,1m",
      "--env", "MODE=strict", "--host-env", "HOME", "--allow-on-headers-stop-iteration",
    );
    assert.equal(out.code, 0, out.stderr);
    const config = parse(out.stdout).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    assert.equal(config.failure_policy, "FAIL_RELOAD");
    assert.deepEqual(config.reload_config, { backoff: { base_interval: "1s", max_interval: "60s" } });
    assert.deepEqual(config.vm_config.environment_variables, { host_env_keys: ["HOME"], key_values: { MODE: "strict" } });
    assert.equal(config.allow_on_headers_stop_iteration, true);
    assert.deepEqual(bootstrapErrors(parse(out.stdout)), []);
    assert.match(out.stderr, /^warning: allow_on_headers_stop_iteration needs Envoy 1\.35 or later, and the Node host .* runs Envoy's default/);
    const bad = cli("generate", "envoy", join(dir, "plugin.wasm"), "--failure-policy", "FAIL_CLOSE");
    assert.equal(bad.stderr, 'proxy-wasm-as generate envoy: bad --failure-policy "FAIL_CLOSE": one of FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD\n');
  });

  // Issue 15: `generate envoy nope.wasm` printed a bootstrap and exited 0.
  it("generate envoy fails, writing nothing, when the module is missing, a folder or not WebAssembly", async () => {
    const missing = cli("generate", "envoy", join(dir, "nope.wasm"));
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr, `proxy-wasm-as generate envoy: cannot read ${join(dir, "nope.wasm")}: ENOENT\n`);
    const composed = cli("generate", "envoy", join(dir, "nope.wasm"), "--compose", "--output", join(dir, "never"));
    assert.equal(composed.code, 1);
    await assert.rejects(readFile(join(dir, "never", "envoy.yaml")), { code: "ENOENT" });
    const folder = cli("generate", "envoy", dir);
    assert.equal(folder.code, 1);
    assert.equal(folder.stderr, `proxy-wasm-as generate envoy: ${dir} is not a file\n`);
    const notWasm = cli("generate", "envoy", join(dir, "config.yaml"));
    assert.equal(notWasm.code, 1);
    assert.match(notWasm.stderr, /config\.yaml is not a WebAssembly module/);
  });

  // Issue 14 item 13: `generate --url` accepted newlines and spaces.
  it("refuses a --url with a newline or a space, naming it escaped on one line", () => {
    for (const command of ["wasmplugin", "trafficextension", "envoyfilter", "envoyextensionpolicy"]) {
      for (const url of ["oci://ghcr.io/me/f:v1\nmalicious: true", "https://example.com/p .wasm"]) {
        const targets = command === "envoyextensionpolicy" ? ["--target-ref", "Gateway/g"] : [];
        const out = cli("generate", command, "--url", url, "--name", "p", "--sha256", "a".repeat(64), ...targets);
        assert.equal(out.code, 1, `${command} ${url}`);
        assert.equal(out.stdout, "");
        assert.equal(out.stderr.split("\n").length, 2, out.stderr);
        if (!(command === "envoyfilter" && url.startsWith("oci"))) assert.ok(out.stderr.includes(`bad --url ${JSON.stringify(url)}`), `${command}: ${out.stderr}`);
      }
    }
  });

  it("migrate --to TrafficExtension converts WasmPlugins", { skip: schemasUnavailable }, () => {
    const out = cli("migrate", join(FIXTURES, "wasmplugins.yaml"), "--to", "TrafficExtension");
    assert.equal(out.code, 0, out.stderr);
    const extensions = parseAllDocuments(out.stdout).map((d) => d.toJS());
    assert.deepEqual(extensions.map((e) => [e.kind, e.metadata.name]), [
      ["TrafficExtension", "openid-connect"], ["TrafficExtension", "gateway-stats"], ["TrafficExtension", "legacy"],
    ]);
    for (const extension of extensions) assert.deepEqual(schemaErrors(extension), []);
    assert.match(out.stderr, /^note: .*wasmplugins\.yaml: WasmPlugin legacy: spec\.somethingNew has no TrafficExtension equivalent/m);
    assert.equal(cli("migrate", join(FIXTURES, "wasmplugins.yaml"), "--to", "EnvoyFilter").stderr, 'proxy-wasm-as migrate: bad --to "EnvoyFilter": one of WasmPlugin, TrafficExtension\n');
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
