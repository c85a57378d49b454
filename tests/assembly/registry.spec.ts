import { RootContext } from "../../assembly/context/root";
import { addContext, anyContext, removeContext, rootContext } from "../../assembly/dispatcher/registry";

/** A small deterministic generator, so a failure replays. */
let seed: u32 = 12345;
function next(): u32 {
  seed = seed * 1103515245 + 12345;
  return seed >> 8;
}

describe("context registry (buckets chained through the contexts)", () => {
  it("finds colliding ids and keeps them findable as their neighbours leave", () => {
    // 1, 17, 33 and 49 share a bucket of the 16 first buckets, as do 2 and 18.
    const ids: u32[] = [1, 17, 33, 2, 49, 18];
    for (let i = 0; i < ids.length; i++) addContext(new RootContext(ids[i]));
    removeContext(17);
    removeContext(1);
    expect(anyContext(17)).toBeNull();
    expect(anyContext(1)).toBeNull();
    const kept: u32[] = [33, 2, 49, 18];
    for (let i = 0; i < kept.length; i++) expect(anyContext(kept[i])!.id).toBe(kept[i]);
    for (let i = 0; i < kept.length; i++) removeContext(kept[i]);
    for (let i = 0; i < kept.length; i++) expect(anyContext(kept[i])).toBeNull();
  });

  it("agrees with a Map over 20,000 random adds and removes as the table grows", () => {
    const model = new Map<u32, bool>();
    const live = new Array<u32>();
    for (let step = 0; step < 20000; step++) {
      if (live.length > 0 && next() % 3 == 0) {
        const index = <i32>(next() % <u32>live.length);
        const id = live[index];
        live[index] = live[live.length - 1];
        live.pop();
        model.delete(id);
        removeContext(id);
      } else {
        const id = 1 + next() % 5000;
        if (model.has(id)) continue;
        model.set(id, true);
        live.push(id);
        addContext(new RootContext(id));
      }
      if (step % 97 == 0) {
        const probe = 1 + next() % 5000;
        const found = anyContext(probe);
        expect(found != null).toBe(model.has(probe));
        if (found) expect(found.id).toBe(probe);
      }
    }
    for (let i = 0; i < live.length; i++) expect(rootContext(live[i])!.id).toBe(live[i]);
  });

  it("ignores id 0, the VM's, never a context's", () => {
    addContext(new RootContext(0));
    expect(anyContext(0)).toBeNull();
  });
});
