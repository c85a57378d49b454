// Streams sharing their root's context (assembly/dispatcher/shared-streams.ts, transform/shared-contexts.ts),
// driven the way Envoy drives one VM that several root contexts share: plugins with the same VM configuration,
// and, after a plugin's configuration changes, the old root next to the new one with the same root id
// (proxy-wasm-cpp-host wasm.cc keys root_contexts_ by the plugin key, a hash of root id and configuration),
// context ids handed out VM-wide in sequence, streams of all roots interleaved. Our host runs one root per VM,
// so this drives the module's exports itself, the way cpp-host calls them, and answers
// proxy_set_effective_context as cpp-host does (exports.cc: BadArgument for an id no longer in contexts_).
// In Envoy a root outlives its streams: each stream context holds its plugin's handle, whose end shuts the
// root down (Envoy context.h plugin_handle_, cpp-host PluginHandleBase::~PluginHandleBase).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { build } from "../../cli/commands/build.js";
import { repoRoot } from "../support/plugins.js";

/** Echo and Counter roots: one shares its streams' context, the other keeps state per stream. */
let mixed: Uint8Array;
/** Echo and a root that takes no stream: every stream shares, and the module exports no proxy_on_delete. */
let sharing: Uint8Array;

before(async () => {
  mixed = readFileSync((await build(`${repoRoot}tests/fixtures/shared-contexts`, { quiet: true })).path);
  sharing = readFileSync((await build(`${repoRoot}tests/fixtures/shared-streams`, { quiet: true })).path);
});

type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };

const BAD_ARGUMENT = 2;

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
  /** The ids of the contexts the host has (cpp-host contexts_): created, not yet deleted. */
  private readonly live = new Set<number>();
  /** How many times the module called proxy_set_effective_context. */
  effectiveContextCalls = 0;

  constructor(wasm: Uint8Array = mixed) {
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
      proxy_set_effective_context: (id: number) => {
        this.effectiveContextCalls++;
        if (!this.live.has(id >>> 0)) return BAD_ARGUMENT;
        this.effective[this.effective.length - 1] = id;
        return 0;
      },
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

  /** Whether the module exports the callback. */
  exports_(name: string): boolean {
    return typeof this.exports[name] === "function";
  }

  startRoot(id: number, rootId: string, configuration: string): void {
    this.live.add(id);
    this.rootIds.set(id, rootId);
    this.configurations.set(id, configuration);
    this.call("proxy_on_context_create", id, 0);
    assert.equal(this.call("proxy_on_configure", id, configuration.length), 1);
  }

  create(id: number, root: number): void {
    assert.ok(!this.live.has(id), "the host never gives two live contexts one id");
    this.live.add(id);
    this.call("proxy_on_context_create", id, root);
  }

  requestHeaders(id: number, count: number): void {
    this.call("proxy_on_request_headers", id, count, 1);
  }

  responseHeaders(id: number): void {
    this.call("proxy_on_response_headers", id, 2, 0);
  }

  /** The context ends: on_delete if the module exports it, then the host forgets the id (~ContextBase). */
  delete(id: number): void {
    if (this.exports_("proxy_on_delete")) this.call("proxy_on_delete", id);
    this.live.delete(id);
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

  it("with every stream sharing, no proxy_on_delete: a configuration change keeps each stream with its root, long-lived ones too", () => {
    const vm = new SharedVm(sharing);
    assert.equal(vm.exports_("proxy_on_delete"), false);
    vm.startRoot(1, "", "old");
    let next = 2;
    const stream = (root: number, name: string, end = true) => {
      const id = next++;
      vm.create(id, root);
      vm.responseHeaders(id);
      assert.deepEqual(vm.headersOf(id), echo(id, name));
      if (end) vm.delete(id);
      return id;
    };
    // One root: once its first stream made it the default, no stream needs a record or costs a host call of the SDK's own.
    stream(1, "old");
    const atStart = vm.effectiveContextCalls;
    for (let i = 0; i < 100; i++) stream(1, "old");
    assert.equal(vm.effectiveContextCalls, atStart);
    // Streams of the old root created before the new root appears, one of them long-lived.
    const before = [stream(1, "old", false), stream(1, "old", false), stream(1, "old", false)];
    const newRoot = next++;
    vm.startRoot(newRoot, "", "new");
    for (let i = 0; i < 300; i++) stream(i % 3 ? newRoot : 1, i % 3 ? "new" : "old");
    for (const id of before) {
      vm.responseHeaders(id);
      assert.deepEqual(vm.headersOf(id).slice(-3), echo(id, "old"));
    }
    const [longLived, ...rest] = before;
    for (const id of rest) vm.delete(id);
    for (let i = 0; i < 300; i++) stream(newRoot, "new");
    vm.responseHeaders(longLived);
    assert.deepEqual(vm.headersOf(longLived).slice(-3), echo(longLived, "old"));
    // Its last stream gone, Envoy shuts the old root down; new streams need no record again.
    vm.delete(longLived);
    vm.delete(1);
    for (let i = 0; i < 300; i++) stream(newRoot, "new");
    // No record, no probe, nothing kept: the memory holds still over many streams.
    const calls = vm.effectiveContextCalls;
    const bytes = vm.exports.memory.buffer.byteLength;
    for (let i = 0; i < 20_000; i++) stream(newRoot, "new");
    assert.equal(vm.effectiveContextCalls, calls);
    assert.equal(vm.exports.memory.buffer.byteLength, bytes);
  });

  it("with every stream sharing, an id the host hands out again after its stream ended is not taken for its old root", () => {
    const vm = new SharedVm(sharing);
    assert.equal(vm.exports_("proxy_on_delete"), false);
    vm.startRoot(1, "", "a");
    vm.startRoot(2, "", "b");
    vm.create(3, 1);
    vm.create(4, 2);
    vm.responseHeaders(4);
    vm.delete(4);
    vm.delete(3);
    for (let id = 5; id < 205; id++) {
      vm.create(id, 1);
      vm.delete(id);
    }
    // cpp-host's u32 counter came round (allocContextId skips only live ids): 4 is now a stream of root 1.
    vm.create(4, 1);
    vm.responseHeaders(4);
    assert.deepEqual(vm.headersOf(4).slice(-3), echo(4, "a"));
  });

  it("with every stream sharing, a stream its root does not take passes untouched, before and after another root shares", () => {
    const early = new SharedVm(sharing);
    assert.equal(early.exports_("proxy_on_delete"), false);
    early.startRoot(1, "service", "");
    early.create(2, 1);
    early.startRoot(3, "", "echo");
    early.create(4, 3);
    early.responseHeaders(2);
    early.responseHeaders(4);
    assert.deepEqual(early.headersOf(2), []);
    assert.deepEqual(early.headersOf(4), echo(4, "echo"));

    const late = new SharedVm(sharing);
    late.startRoot(1, "", "echo");
    late.create(2, 1);
    late.startRoot(3, "service", "");
    late.create(4, 3);
    late.responseHeaders(4);
    late.responseHeaders(2);
    assert.deepEqual(late.headersOf(4), []);
    assert.deepEqual(late.headersOf(2), echo(2, "echo"));
  });

  it("once the default root and its streams are gone, the next root's streams need no record again (with proxy_on_delete)", () => {
    const vm = new SharedVm(mixed);
    assert.equal(vm.exports_("proxy_on_delete"), true);
    vm.startRoot(1, "", "old");
    vm.startRoot(2, "", "new");
    let next = 3;
    const stream = (root: number, name: string) => {
      const id = next++;
      vm.create(id, root);
      vm.responseHeaders(id);
      assert.deepEqual(vm.headersOf(id), echo(id, name));
      vm.delete(id);
    };
    for (let i = 0; i < 100; i++) stream(i % 2 ? 2 : 1, i % 2 ? "new" : "old");
    vm.delete(1);
    for (let i = 0; i < 100; i++) stream(2, "new");
    const calls = vm.effectiveContextCalls;
    for (let i = 0; i < 300; i++) stream(2, "new");
    assert.equal(vm.effectiveContextCalls, calls);
  });
});
