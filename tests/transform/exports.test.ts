// The preset's transform (transform/): a filter exports only the Proxy-Wasm callbacks its code needs,
// and still runs as before; a filter with no root context does not build. Fixtures in
// tests/fixtures/exports/ are built here with the CLI's build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { createPlugin } from "../../host/index.js";
import { cliMain } from "../devproxy/support.js";
import { examplePlugin, headerValue, repoRoot } from "../support/plugins.js";

/** What every filter exports, whatever it overrides. */
const ALWAYS = [
  "proxy_abi_version_0_2_1",
  "proxy_on_memory_allocate",
  "proxy_on_context_create",
  "proxy_on_configure",
  "memory",
  "_initialize",
];
/** Where the SDK frees a context: left out when every stream shares its root's context (transform/shared-contexts.ts). */
const ON_DELETE = "proxy_on_delete";

function exportNames(wasm: Uint8Array): string[] {
  return WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(wasm))).map((e) => e.name).sort();
}

const fixtures = new Map<string, Uint8Array>();

before(async () => {
  for (const name of ["body-and-log", "http-call", "named-roots", "no-hooks"]) {
    const result = await build(`${repoRoot}tests/fixtures/exports/${name}`, { quiet: true });
    fixtures.set(name, readFileSync(result.path));
  }
  // A root whose streams share next to one whose streams each keep a count.
  fixtures.set("mixed-roots", readFileSync((await build(`${repoRoot}tests/fixtures/shared-contexts`, { quiet: true })).path));
});

function fixture(name: string): Uint8Array {
  return fixtures.get(name)!;
}

describe("transform: exported callbacks", () => {
  it("add-header exports only the lifecycle and proxy_on_response_headers (its streams share: no proxy_on_delete)", () => {
    assert.deepEqual(exportNames(examplePlugin("add-header")), [...ALWAYS, "proxy_on_response_headers"].sort());
  });

  it("a filter overriding onRequestBody and onLog exports their callbacks", () => {
    assert.deepEqual(exportNames(fixture("body-and-log")), [...ALWAYS, "proxy_on_request_body", "proxy_on_log"].sort());
  });

  it("a filter using httpCall exports proxy_on_http_call_response", () => {
    assert.deepEqual(exportNames(fixture("http-call")), [...ALWAYS, ON_DELETE, "proxy_on_request_headers", "proxy_on_http_call_response"].sort());
  });

  it("a filter using grpcCall exports the four gRPC callbacks", () => {
    const names = exportNames(examplePlugin("grpc-call"));
    for (const name of ["proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive", "proxy_on_grpc_receive_trailing_metadata", "proxy_on_grpc_close"]) {
      assert.ok(names.includes(name), name);
    }
    assert.ok(!names.includes("proxy_on_http_call_response"));
  });

  it("a filter overriding onVmStart exports proxy_on_vm_start", () => {
    assert.deepEqual(exportNames(fixture("named-roots")), [...ALWAYS, "proxy_on_vm_start", "proxy_on_request_headers"].sort());
  });

  it("a filter overriding no hook exports only what every filter does, and proxy_on_delete for its contexts of the SDK's class", () => {
    assert.deepEqual(exportNames(fixture("no-hooks")), [...ALWAYS, ON_DELETE].sort());
  });

  it("keeps proxy_on_delete for contexts with state per stream, TCP contexts, and streams that do not all share", () => {
    for (const name of ["body-rewrite", "grpc-call", "tcp-guard"]) assert.ok(exportNames(examplePlugin(name)).includes(ON_DELETE), name);
    assert.ok(exportNames(fixture("mixed-roots")).includes(ON_DELETE));
  });
});

describe("transform: filters without the unused callbacks run as before", () => {
  it("no hooks: starts, and a stream passes through untouched", () => {
    const plugin = createPlugin(fixture("no-hooks"));
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/x"]], requestBody: ["ping"], responseBody: ["pong"] });
    assert.equal(result.stopped, null);
    assert.equal(headerValue(result.upstreamRequest?.headers, ":path"), "/x");
    assert.equal(result.upstreamRequest?.body, "ping");
    assert.equal(result.downstreamResponse?.body, "pong");
  });

  it("body and log: the hooks run", () => {
    const plugin = createPlugin(fixture("body-and-log"));
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest({ requestBody: ["hello"] });
    assert.deepEqual(result.logs.map((entry) => entry.message), ["request body of 5 bytes", "access log"]);
  });

  it("without proxy_on_vm_start, a root id no registration claims still fails the plugin, in on_configure", () => {
    const queue = examplePlugin("queue");
    assert.ok(!exportNames(queue).includes("proxy_on_vm_start"));
    const start = createPlugin(queue, { rootId: "nope" }).start();
    assert.equal(start.ok, false);
    assert.ok(start.logs.some((entry) => entry.level === "critical" && entry.message.includes("no RootContext registered for root id 'nope'")));
  });

  it("onVmStart still runs, and can refuse the plugin", () => {
    assert.equal(createPlugin(fixture("named-roots"), { vmConfiguration: "ok" }).start().ok, true);
    assert.equal(createPlugin(fixture("named-roots"), { vmConfiguration: "refuse" }).start().ok, false);
  });

  it("named roots: a root id picks its root context, any other gets the default one", () => {
    for (const [rootId, label] of [["named", "named"], ["other", "default"], ["", "default"]]) {
      const plugin = createPlugin(fixture("named-roots"), { rootId });
      assert.equal(plugin.start().ok, true);
      const result = plugin.runHttpRequest({});
      assert.equal(headerValue(result.upstreamRequest?.headers, "x-root"), label, rootId);
    }
  });

  it("http call: the response reaches the callback", () => {
    const plugin = createPlugin(fixture("http-call"), { clusters: ["checker"] });
    assert.equal(plugin.start().ok, true);
    const result = plugin.runHttpRequest({ httpCallResponses: [{ status: 204 }] });
    assert.equal(headerValue(result.upstreamRequest?.headers, "x-check-status"), "204");
  });
});

describe("transform: root context registration", () => {
  it("a filter that registers no root context fails to build, saying so", () => {
    const run = spawnSync(process.execPath, [cliMain, "build", `${repoRoot}tests/fixtures/exports/no-root`], { encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /Transform 'proxy-wasm-as': the filter registers no root context: call registerRootContext\(\.\.\.\) from its entry file/);
  });

  it("an import left in place while the call is commented out registers nothing: the build still fails", () => {
    const run = spawnSync(process.execPath, [cliMain, "build", `${repoRoot}tests/fixtures/exports/commented-root`], { encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /the filter registers no root context/);
  });

  it("a registration the filter never reaches builds, then start-up fails with a log line saying what is missing", async () => {
    const result = await build(`${repoRoot}tests/fixtures/exports/unreached-root`, { quiet: true });
    const start = createPlugin(readFileSync(result.path)).start();
    assert.equal(start.ok, false);
    assert.ok(
      start.logs.some((entry) => entry.level === "critical" && entry.message.includes("no root context: call registerRootContext()")),
      JSON.stringify(start.logs),
    );
  });
});
