// LiveById: what the host keeps per stream (contexts, streams) and the dev proxy per exchange, by id.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveById } from "../../host/live-by-id.js";

describe("LiveById", () => {
  it("gets, sets, deletes and counts by id; a second set replaces, a second delete does nothing", () => {
    const live = new LiveById<string>();
    live.set(2, "a");
    live.set(3, "b");
    live.set(2, "c");
    assert.equal(live.size, 2);
    assert.equal(live.get(2), "c");
    live.delete(2);
    live.delete(2);
    live.delete(99);
    assert.equal(live.size, 1);
    assert.equal(live.get(2), undefined);
    assert.deepEqual([...live.values()], ["b"]);
  });

  it("goes through values in id order, skipping one deleted meanwhile; clear empties it", () => {
    const live = new LiveById<number>();
    for (let id = 1; id <= 5; id++) live.set(id, id * 10);
    const seen: number[] = [];
    for (const v of live.values()) {
      seen.push(v);
      if (v === 20) live.delete(4);
    }
    assert.deepEqual(seen, [10, 20, 30, 50]);
    live.clear();
    assert.equal(live.size, 0);
    assert.deepEqual([...live.values()], []);
  });

  it("holds an id 0 and ids far apart (a long-lived root next to streams numbered in the millions)", () => {
    const live = new LiveById<string>();
    live.set(0, "root");
    live.set(4_000_000, "stream");
    assert.deepEqual([live.get(0), live.get(4_000_000), live.size], ["root", "stream", 2]);
  });

  it("stays right through many streams coming and going, ids set out of order, and deletes behind an iteration", () => {
    const live = new LiveById<number>();
    const model = new Map<number, number>();
    live.set(0, 0);
    model.set(0, 0);
    for (let id = 1; id <= 5000; id++) {
      live.set(id, id);
      model.set(id, id);
      if (id > 40) {
        live.delete(id - 40);
        model.delete(id - 40);
      }
      if (id % 7 === 0) {
        live.delete(id - 3);
        model.delete(id - 3);
      }
    }
    live.set(4950, -1);
    model.set(4950, -1);
    live.set(2, 2);
    model.set(2, 2);
    assert.equal(live.size, model.size);
    for (let id = 0; id <= 5001; id++) assert.equal(live.get(id), model.get(id), `id ${id}`);
    const inOrder = [...model.keys()].sort((a, b) => a - b).map((id) => model.get(id));
    assert.deepEqual([...live.values()], inOrder);
    // Deleting what was already seen (enough to close the holes) skips nothing still ahead.
    const seen: number[] = [];
    for (const v of live.values()) {
      seen.push(v);
      if (v === 4970) for (let id = 0; id < 4970; id++) live.delete(id);
    }
    assert.deepEqual(seen, inOrder);
    assert.deepEqual([...live.values()], inOrder.slice(inOrder.indexOf(4970)));
  });
});
