// Streams sharing their root's context (assembly/dispatcher/shared-streams.ts, transform/shared-contexts.ts),
// driven the way Envoy drives one VM that several root contexts share: plugins with the same VM configuration,
// and, after a plugin's configuration changes, the old root next to the new one with the same root id
// (proxy-wasm-cpp-host wasm.cc keys root_contexts_ by the plugin key, a hash of root id and configuration),
// context ids handed out VM-wide in sequence, streams of all roots interleaved. Our host runs one root per VM,
// so this drives the module's exports itself, the way cpp-host calls them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { repoRoot } from "../support/plugins.js";

let wasm: Uint8Array;

before(async () => {
  const result = await build(`${repoRoot}tests/fixtures/shared-contexts`, { quiet: true });
  wasm = readFileSync(result.path);
});

type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };

/** Headers the module added, with the context the host applied each to. */
interface Added {
  context: number;
  name: string;
  value: string;
}

/** One VM: its roots' ids and configurations, the effective context of each call in progress, what was added. */
class SharedVm {
  readonly exports: Exports;
  readonly added: Added[] = [];
  private readonly rootIds = new Map<number, string>();
  private readonly configurations = new Map<number, string>();
  /** The context each callback in progress applies host calls to (cpp-host: its context, or the one set effective). */
  private readonly effective: number[] = [];
  /** Called during the next proxy_add_header_map_value, inside the module's callback. */
  nested: (() => void) | null = null;

  constructor() {
    const text = new TextDecoder();
    const bytes = (pointer: number, size: number) => new Uint8Array(this.exports.memory.buffer, pointer, size);
    const give = (data: Uint8Array, pointerAt: number, sizeAt: number) => {
      const pointer = this.exports.proxy_on_memory_allocate(data.length);
      bytes(pointer, data.length).set(data);
      const view = new DataView(this.exports.memory.buffer);
      view.setUint32(pointerAt, pointer, true);
      view.setUint32(sizeAt, data.length, true);
      return 0;
    };
    const current = () => this.effective[this.effective.length - 1];
    const env = {
      proxy_log: () => 0,
      proxy_get_log_level: (at: number) => (new DataView(this.exports.memory.buffer).setUint32(at, 2, true), 0),
      proxy_set_effective_context: (id: number) => ((this.effective[this.effective.length - 1] = id), 0),
      // Asked only while a root is created, for the factory of its root id.
      proxy_get_property: (_path: number, _size: number, pointerAt: number, sizeAt: number) =>
        give(new TextEncoder().encode(this.rootIds.get(current()) ?? ""), pointerAt, sizeAt),
      proxy_get_buffer_bytes: (_type: number, _start: number, _max: number, pointerAt: number, sizeAt: number) =>
        give(new TextEncoder().encode(this.configurations.get(current()) ?? ""), pointerAt, sizeAt),
      proxy_add_header_map_value: (_map: number, name: number, nameSize: number, value: number, valueSize: number) => {
        this.added.push({ context: current(), name: text.decode(bytes(name, nameSize)), value: text.decode(bytes(value, valueSize)) });
        const nested = this.nested;
        this.nested = null;
        nested?.();
        return 0;
      },
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm)), { env } as unknown as WebAssembly.Imports);
    this.exports = instance.exports as unknown as Exports;
    this.exports._initialize();
  }

  private call(name: string, context: number, ...args: number[]): number {
    this.effective.push(context);
    try {
      return this.exports[name](context, ...args);
    } finally {
      this.effective.pop();
    }
  }

  startRoot(id: number, rootId: string, configuration: string): void {
    this.rootIds.set(id, rootId);
    this.configurations.set(id, configuration);
    this.call("proxy_on_context_create", id, 0);
    assert.equal(this.call("proxy_on_configure", id, configuration.length), 1);
  }

  create(id: number, root: number): void {
    this.call("proxy_on_context_create", id, root);
  }

  requestHeaders(id: number, count: number): void {
    this.call("proxy_on_request_headers", id, count, 1);
  }

  responseHeaders(id: number): void {
    this.call("proxy_on_response_headers", id, 2, 0);
  }

  delete(id: number): void {
    this.call("proxy_on_delete", id);
  }

  /** The headers the host added to stream `id`, as "name=value" in order. */
  headersOf(id: number): string[] {
    return this.added.filter((a) => a.context === id).map((a) => `${a.name}=${a.value}`);
  }
}

const echo = (id: number, root: string) => [`x-id-before=${id}`, `x-root=${root}`, `x-id-after=${id}`];

describe("streams sharing their root's context", () => {
  it("interleaved streams of two roots with one root id (a configuration update) each see their own root", () => {
    const vm = new SharedVm();
    vm.startRoot(1, "", "old");
    vm.create(2, 1);
    vm.startRoot(3, "", "new");
    vm.create(4, 3);
    vm.create(5, 1);
    vm.create(6, 3);
    vm.responseHeaders(5);
    vm.responseHeaders(4);
    vm.responseHeaders(2);
    vm.responseHeaders(6);
    assert.deepEqual(vm.headersOf(2), echo(2, "old"));
    assert.deepEqual(vm.headersOf(4), echo(4, "new"));
    assert.deepEqual(vm.headersOf(5), echo(5, "old"));
    assert.deepEqual(vm.headersOf(6), echo(6, "new"));
  });

  it("a stream keeps its root after the other root's streams end and after its own root is deleted", () => {
    const vm = new SharedVm();
    vm.startRoot(1, "", "old");
    vm.startRoot(2, "", "new");
    vm.create(3, 1);
    vm.create(4, 2);
    vm.create(5, 2);
    vm.responseHeaders(4);
    vm.delete(4);
    vm.delete(1);
    vm.create(6, 2);
    vm.responseHeaders(3);
    vm.responseHeaders(6);
    vm.responseHeaders(5);
    assert.deepEqual(vm.headersOf(3), echo(3, "old"));
    assert.deepEqual(vm.headersOf(5), echo(5, "new"));
    assert.deepEqual(vm.headersOf(6), echo(6, "new"));
  });

  it("streams whose ids meet in the SDK's slots, live at once, stay apart", () => {
    const vm = new SharedVm();
    vm.startRoot(1, "", "a");
    vm.startRoot(2, "", "b");
    // 256 apart: the same slot; the later streams get contexts of their own while the first ones live.
    const ids = [3, 3 + 256, 3 + 512, 4, 4 + 256];
    for (const [i, id] of ids.entries()) vm.create(id, i % 2 === 0 ? 1 : 2);
    for (const id of [...ids].reverse()) vm.responseHeaders(id);
    ids.forEach((id, i) => assert.deepEqual(vm.headersOf(id), echo(id, i % 2 === 0 ? "a" : "b")));
    for (const id of ids) vm.delete(id);
    // Deleted, the slots serve new streams again.
    vm.create(3 + 768, 2);
    vm.responseHeaders(3 + 768);
    assert.deepEqual(vm.headersOf(3 + 768), echo(3 + 768, "b"));
  });

  it("a stream's callback nested in another's, inside a host call, leaves the outer stream its id", () => {
    const vm = new SharedVm();
    vm.startRoot(1, "", "r");
    vm.create(2, 1);
    vm.create(3, 1);
    // cpp-host runs another stream's callbacks inside a host call (a local reply or a resumed stream):
    // stream 3's response headers arrive while stream 2's first header is being added.
    vm.nested = () => vm.responseHeaders(3);
    vm.responseHeaders(2);
    assert.deepEqual(vm.headersOf(2), echo(2, "r"));
    assert.deepEqual(vm.headersOf(3), echo(3, "r"));
  });

  it("a context that keeps state per stream is not shared: interleaved streams keep their own", () => {
    const vm = new SharedVm();
    vm.startRoot(1, "counter", "");
    vm.startRoot(2, "", "echo");
    vm.create(3, 1);
    vm.create(4, 2);
    vm.create(5, 1);
    vm.requestHeaders(3, 7);
    vm.requestHeaders(5, 9);
    vm.responseHeaders(3);
    vm.responseHeaders(4);
    vm.responseHeaders(5);
    assert.deepEqual(vm.headersOf(3), ["x-count=7"]);
    assert.deepEqual(vm.headersOf(4), echo(4, "echo"));
    assert.deepEqual(vm.headersOf(5), ["x-count=9"]);
  });
});
