// tcp-guard: a network filter that counts the bytes each way and closes a connection whose client
// sends a configured pattern, even when the pattern is split across reads.
import {
  Configuration, Counter, FilterStatus, log, PeerType, readConfiguration, registerRootContext, RootContext, StreamContext,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

/** `{"pattern": "DROP TABLE"}`: the bytes that close the connection (required, 1 to 1024 bytes). */
@configuration
class Settings {
  @required @nonEmpty pattern: string = "";
}

class TcpGuardRoot extends RootContext {
  pattern: ArrayBuffer = new ArrayBuffer(0);
  downstreamBytes: Counter | null = null;
  upstreamBytes: Counter | null = null;
  closedConnections: Counter | null = null;

  onConfigure(configuration: Configuration): bool {
    const settings = readConfiguration<Settings>(configuration);
    if (!settings) return false; // the problem is logged
    this.pattern = String.UTF8.encode(settings.pattern);
    if (this.pattern.byteLength > 1024) {
      log.error("invalid configuration: pattern: expected 1 to 1024 bytes of UTF-8, got " + this.pattern.byteLength.toString());
      return false;
    }
    this.downstreamBytes = new Counter("tcp_guard.downstream_bytes");
    this.upstreamBytes = new Counter("tcp_guard.upstream_bytes");
    this.closedConnections = new Counter("tcp_guard.closed_connections");
    return true;
  }

  createStreamContext(contextId: u32): StreamContext {
    return new TcpGuard(contextId, this);
  }
}

class TcpGuard extends StreamContext {
  /** The last pattern-length-minus-one bytes seen, so a pattern split across reads is still found. */
  private tail: ArrayBuffer = new ArrayBuffer(0);

  constructor(id: u32, readonly plugin: TcpGuardRoot) {
    super(id, plugin);
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize == 0) return FilterStatus.Continue;
    this.plugin.downstreamBytes!.increment(dataSize);
    const data = this.downstreamData.read(0, dataSize);
    const window = concat(this.tail, data);
    if (indexOf(window, this.plugin.pattern) >= 0) {
      log.warn("tcp-guard: pattern seen, closing the connection");
      this.plugin.closedConnections!.increment();
      this.closeDownstream();
      return FilterStatus.StopIteration;
    }
    const keep = min(window.byteLength, this.plugin.pattern.byteLength - 1);
    this.tail = window.slice(window.byteLength - keep);
    return FilterStatus.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize > 0) this.plugin.upstreamBytes!.increment(dataSize);
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    log.debug("tcp-guard: downstream closed");
  }
}

function concat(a: ArrayBuffer, b: ArrayBuffer): ArrayBuffer {
  const joined = new ArrayBuffer(a.byteLength + b.byteLength);
  memory.copy(changetype<usize>(joined), changetype<usize>(a), a.byteLength);
  memory.copy(changetype<usize>(joined) + a.byteLength, changetype<usize>(b), b.byteLength);
  return joined;
}

function indexOf(haystack: ArrayBuffer, needle: ArrayBuffer): i32 {
  const last = haystack.byteLength - needle.byteLength;
  for (let i = 0; i <= last; i++) {
    if (memory.compare(changetype<usize>(haystack) + i, changetype<usize>(needle), needle.byteLength) == 0) return i;
  }
  return -1;
}

registerRootContext((contextId: u32): RootContext => new TcpGuardRoot(contextId));
