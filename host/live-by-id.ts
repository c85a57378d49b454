// Objects that come and go with every stream (contexts, streams, a proxy's exchanges), by a number
// id, in a plain dictionary object rather than a Map or Set. V8 moves a Map or Set that is added
// to and deleted from all the time into a new table every few dozen changes, and the table left
// behind still points at its entries and at the new table: a collection of young objects only (a
// scavenge) then keeps every stream since the last full collection alive. In the dev proxy
// (add-header, 32 connections) that was 3 MB copied per scavenge instead of 0.3 MB, and about a
// quarter of its CPU time per request.

export class LiveById<T> {
  private readonly byId: Record<number, T> = Object.create(null);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    return this.byId[id];
  }

  set(id: number, value: T): void {
    if (!(id in this.byId)) this.count++;
    this.byId[id] = value;
  }

  delete(id: number): void {
    if (!(id in this.byId)) return;
    this.count--;
    delete this.byId[id];
  }

  clear(): void {
    for (const id in this.byId) delete this.byId[id];
    this.count = 0;
  }

  /** Each value, those added or deleted meanwhile as a Map's iteration would (deleted ones are skipped). */
  *values(): IterableIterator<T> {
    for (const id in this.byId) {
      const value = this.byId[id];
      if (value !== undefined) yield value;
    }
  }
}
