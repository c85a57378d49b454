// Traps on request headers, the kind named by the plugin configuration: unreachable, out-of-bounds,
// divide-by-zero, stack-overflow, abort; anything else passes. Each trapping line carries a "trap:" marker
// the tests find it by; "break:" marks where the inspector test stops.
import { Configuration, FilterHeadersStatus, HttpContext, registerRootContext, RootContext } from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

let sink: u32 = 0;

class TrapRoot extends RootContext {
  kind: string = "";
  divisor: i32 = 1;

  onConfigure(configuration: Configuration): bool {
    this.kind = configuration.toString();
    this.divisor = this.kind == "divide-by-zero" ? 0 : 1;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new TrapStream(contextId, this);
  }
}

class TrapStream extends HttpContext {
  constructor(id: u32, readonly plugin: TrapRoot) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const headerCount = numHeaders * 10;
    sink = headerCount; // break: headerCount
    trapBy(this.plugin.kind, this.plugin.divisor, headerCount); // trap: caller
    return FilterHeadersStatus.Continue;
  }
}

function trapBy(kind: string, divisor: i32, seed: u32): void {
  if (kind == "unreachable") {
    unreachable(); // trap: unreachable
  } else if (kind == "out-of-bounds") {
    sink = load<u32>(<usize>0xfffffff0 - <usize>seed); // trap: out-of-bounds
  } else if (kind == "divide-by-zero") {
    sink = <u32>(<i32>seed / divisor); // trap: divide-by-zero
  } else if (kind == "stack-overflow") {
    sink = recurse(seed); // trap: stack-overflow-call
  } else if (kind == "abort") {
    throw new Error("refused by the filter"); // trap: abort
  }
}

function recurse(depth: u32): u32 {
  return recurse(depth + 1) + depth; // trap: stack-overflow
}

registerRootContext((contextId: u32): RootContext => new TrapRoot(contextId));
