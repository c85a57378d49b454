// {{name}}: a network (TCP) filter. Counts the bytes each way and closes a connection whose client
// sends the configured word, even when the word is split across reads.
// In Envoy it goes in a listener's filter_chains[].filters as envoy.filters.network.wasm.
import {
  Configuration, Counter, FilterStatus, log, PeerType, readConfiguration, refuseConfiguration, registerRootContext, RootContext,
  StreamContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports"; // the Proxy-Wasm ABI exports Envoy calls

/** `{"blocked": "QUIT"}` (optional): the bytes that close the connection, 1 to 1024 of them. */
@configuration
class Settings {
  @nonEmpty blocked: string = "QUIT";
}

class TcpRoot extends RootContext {
  blocked: ArrayBuffer = String.UTF8.encode("QUIT");
  downstreamBytes: Counter = new Counter("{{metric}}.downstream_bytes");
  upstreamBytes: Counter = new Counter("{{metric}}.upstream_bytes");
  closed: Counter = new Counter("{{metric}}.closed_connections");

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    this.blocked = String.UTF8.encode(settings.blocked);
    if (this.blocked.byteLength > 1024) return refuseConfiguration("blocked: expected 1 to 1024 bytes of UTF-8");
    return true;
  }

  createStreamContext(contextId: u32): StreamContext {
    return new TcpFilter(contextId, this);
  }
}

class TcpFilter extends StreamContext {
  /** The last (length - 1) bytes seen, so a word split across reads is still found. */
  private tail: ArrayBuffer = new ArrayBuffer(0);

  constructor(id: u32, readonly plugin: TcpRoot) {
    super(id, plugin);
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize == 0) return FilterStatus.Continue;
    this.plugin.downstreamBytes.increment(dataSize);
    const window = concat(this.tail, this.downstreamData.read(0, dataSize));
    if (indexOf(window, this.plugin.blocked) >= 0) {
      log.warn("{{name}}: blocked word seen, closing the connection");
      this.plugin.closed.increment();
      this.closeDownstream();
      return FilterStatus.StopIteration;
    }
    const keep = min(window.byteLength, this.plugin.blocked.byteLength - 1);
    this.tail = window.slice(window.byteLength - keep);
    return FilterStatus.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize > 0) this.plugin.upstreamBytes.increment(dataSize);
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    log.debug("{{name}}: client closed");
  }
}

function concat(a: ArrayBuffer, b: ArrayBuffer): ArrayBuffer {
  const joined = new ArrayBuffer(a.byteLength + b.byteLength);
  memory.copy(changetype<usize>(joined), changetype<usize>(a), a.byteLength);
  memory.copy(changetype<usize>(joined) + a.byteLength, changetype<usize>(b), b.byteLength);
  return joined;
}

function indexOf(haystack: ArrayBuffer, needle: ArrayBuffer): i32 {
  for (let i = 0; i <= haystack.byteLength - needle.byteLength; i++) {
    if (memory.compare(changetype<usize>(haystack) + i, changetype<usize>(needle), needle.byteLength) == 0) return i;
  }
  return -1;
}

registerRootContext((contextId: u32): RootContext => new TcpRoot(contextId));
