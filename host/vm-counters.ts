// Per-VM id counters whose low 2 bits carry the type (wasm.h): HTTP calls 4, 8, ...;
// gRPC calls 5, 9, ...; gRPC streams 6, 10, ...; counters 4, 8, ...; gauges 5, 9, ...;
// histograms 6, 10, ....

export class VmCounters {
  private next = { httpCall: 4, grpcCall: 5, grpcStream: 6, counter: 4, gauge: 5, histogram: 6 };

  take(kind: keyof VmCounters["next"]): number {
    const id = this.next[kind];
    this.next[kind] += 4;
    return id;
  }

  /** The id the next take() of this kind returns. */
  peek(kind: keyof VmCounters["next"]): number {
    return this.next[kind];
  }
}
