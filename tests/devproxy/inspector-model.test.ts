// The inspector's model on its own: header diffs, the leak rule, percentiles, and the bounds
// that keep a flood (or a hostile value) from growing the proxy.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerDiff } from "../../devproxy/inspector/diff.js";
import { clip, MAX_DIFF_ENTRIES, MAX_TEXT, type RequestEnd } from "../../devproxy/inspector/events.js";
import { DEFAULT_LIMITS, InspectorModel, LEAK_RULE, leakOf } from "../../devproxy/inspector/model.js";

const ended = (id: number, phases: { phase: string; wasmMs: number }[] = []): RequestEnd => ({
  type: "request-end",
  id: String(id),
  at: id,
  method: "GET",
  path: `/${id}`,
  status: 200,
  durationMs: 1,
  endedBy: null,
  filters: [
    { name: "f", version: 1, phases, body: { requestIn: 0, requestOut: 0, responseIn: 0, responseOut: 0 }, logs: [], localReply: null, trap: null, callouts: [], stopped: null },
  ],
});

describe("inspector: header diff", () => {
  it("tells added, replaced and removed headers apart, by name whatever the case, repeated ones included", () => {
    const diff = headerDiff(
      [["x-a", "1"], ["X-Gone", "g"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["keep", "k"]],
      [["x-a", "2"], ["set-cookie", "b=2"], ["keep", "k"], ["new", "n"], ["set-cookie", "c=3"]],
    );
    assert.deepEqual(diff, {
      added: [["new", "n"]],
      replaced: [["x-a", "1", "2"], ["set-cookie", "a=1", "c=3"]],
      removed: [["x-gone", "g"]],
      omitted: 0,
    });
    assert.deepEqual(headerDiff([["Keep", "k"]], [["keep", "k"]]), { added: [], replaced: [], removed: [], omitted: 0 });
  });

  it("cuts long values and many changes", () => {
    const long = "v".repeat(MAX_TEXT * 10);
    const diff = headerDiff([], [["big", long], ...Array.from({ length: 500 }, (_, i): [string, string] => [`h${i}`, "x"])]);
    assert.equal(diff.added.length, MAX_DIFF_ENTRIES);
    assert.equal(diff.omitted, 501 - MAX_DIFF_ENTRIES);
    assert.equal(diff.added[0][1], clip(long));
    assert.ok(diff.added[0][1].length < MAX_TEXT + 64);
    assert.match(diff.added[0][1], /… \(9216 more characters\)$/);
  });
});

describe("inspector: the leak rule", () => {
  const t0 = 1_000_000;
  const series = (pages: number[], everyMs = 1000, from = t0): [number, number][] => pages.map((p, i) => [from + i * everyMs, p]);

  it(`flags ${LEAK_RULE.growths} growths within the window, not ${LEAK_RULE.growths - 1}`, () => {
    const growing = series([2, 2, 2, 2, 2, 2, 2, 3, 4, 5, 6]);
    assert.deepEqual(leakOf(growing, t0, t0 + 11_000), { growths: 4, fromPages: 2, toPages: 6, windowMs: LEAK_RULE.windowMs });
    assert.equal(leakOf(series([2, 2, 2, 2, 2, 2, 2, 3, 4, 5, 5]), t0, t0 + 11_000), null);
  });

  it("leaves out the warm-up and growth older than the window", () => {
    // Grows 5 times in its first 5 s, then stays flat.
    assert.equal(leakOf(series([1, 2, 3, 4, 5, 6, 6, 6, 6, 6]), t0, t0 + 10_000), null);
    // Grew 5 times a while ago: the alarm clears once a window passes without growth.
    const old = series([2, 2, 2, 2, 2, 2, 3, 4, 5, 6, 7, ...Array(70).fill(7)]);
    assert.ok(leakOf(old, t0, t0 + 12_000));
    assert.equal(leakOf(old, t0, t0 + 81_000), null);
  });
});

describe("inspector: the model's bounds", () => {
  it("keeps the last requests of a flood, newest last, and counts them all", () => {
    const model = new InspectorModel();
    for (let i = 1; i <= 10_000; i++) model.accept(ended(i));
    const snapshot = model.snapshot();
    assert.equal(snapshot.total, 10_000);
    assert.equal(snapshot.requests.length, DEFAULT_LIMITS.requests);
    assert.deepEqual([snapshot.requests[0].id, snapshot.requests.at(-1)!.id], [String(10_000 - DEFAULT_LIMITS.requests + 1), "10000"]);
  });

  it("forgets the oldest requests in flight past its limit, and those that end", () => {
    const model = new InspectorModel();
    for (let i = 1; i <= 5000; i++) model.accept({ type: "request-start", id: String(i), at: i, method: "GET", path: "/", filters: ["f"] });
    assert.equal(model.snapshot().inFlight.length, DEFAULT_LIMITS.inFlight);
    model.accept(ended(5000));
    assert.equal(model.snapshot().inFlight.length, DEFAULT_LIMITS.inFlight - 1);
    assert.ok(!model.snapshot().inFlight.some((r) => r.id === "5000" || r.id === "1"));
  });

  it("computes percentiles over the last samples of each filter and phase", () => {
    const model = new InspectorModel();
    for (let i = 1; i <= 100; i++) model.accept(ended(i, [{ phase: "request_headers", wasmMs: i }, { phase: "log", wasmMs: -1 }]));
    assert.deepEqual(model.phaseStats(), [{ filter: "f", phase: "request_headers", count: 100, p50: 50, p90: 90, p99: 99, max: 100 }]);
    for (let i = 1; i <= 5000; i++) model.accept(ended(i, [{ phase: "request_headers", wasmMs: 1000 }]));
    assert.deepEqual(model.phaseStats()[0], { filter: "f", phase: "request_headers", count: DEFAULT_LIMITS.timings, p50: 1000, p90: 1000, p99: 1000, max: 1000 });
  });

  it("keeps a bounded series per VM and a bounded number of VMs (reloads make new ones)", () => {
    let now = 0;
    const model = new InspectorModel(DEFAULT_LIMITS, () => now);
    for (let v = 1; v <= 100; v++) for (let i = 0; i < 1000; i++) model.accept({ type: "memory", vm: `f v${v}`, filter: "f", at: (now = i * 10), pages: 1 });
    const memory = model.memoryStats();
    assert.equal(memory.length, DEFAULT_LIMITS.vms);
    assert.equal(memory.at(-1)!.vm, "f v100");
    assert.ok(memory.every((m) => m.samples.length === DEFAULT_LIMITS.memorySamples && m.leak === null));
  });

  it("raises the alarm from memory samples as they come", () => {
    let now = 0;
    const model = new InspectorModel(DEFAULT_LIMITS, () => now);
    const sample = (at: number, pages: number) => model.accept({ type: "memory", vm: "leaky v1", filter: "leaky", at: (now = at), pages });
    sample(0, 2);
    sample(6000, 2);
    for (let i = 1; i <= 3; i++) sample(6000 + i * 100, 2 + i);
    assert.equal(model.memoryStats()[0].leak, null);
    sample(6400, 6);
    assert.deepEqual(model.memoryStats()[0].leak, { growths: 4, fromPages: 2, toPages: 6, windowMs: LEAK_RULE.windowMs });
  });
});
