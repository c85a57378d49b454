// queue: request contexts enqueue one event per request; a singleton root registered on the queue
// drains it and counts the events in metrics. Producers and consumer may live in different VMs.
import {
  Configuration, Counter, FilterHeadersStatus, HttpContext, log, registerNamedRootContext, RootContext, SharedQueue,
} from "proxy-wasm-as";
export * from "proxy-wasm-as/assembly/exports";

const QUEUE_NAME = "request-events";

/** The consumer (root id `queue-consumer`): registers the queue and turns events into counters. */
class EventAggregator extends RootContext {
  total: Counter | null = null;
  byMethod: Map<string, Counter> = new Map();

  onConfigure(configuration: Configuration): bool {
    if (!SharedQueue.register(QUEUE_NAME)) {
      log.error("queue: could not register the queue '" + QUEUE_NAME + "'");
      return false;
    }
    this.total = new Counter("request_events_total");
    return true;
  }

  onQueueReady(queue: SharedQueue): void {
    for (let event = queue.dequeueString(); event != null; event = queue.dequeueString()) {
      this.total!.increment();
      this.counterFor(methodOf(event)).increment();
    }
  }

  private counterFor(method: string): Counter {
    if (!this.byMethod.has(method)) this.byMethod.set(method, new Counter("request_events.method=" + method));
    return this.byMethod.get(method);
  }
}

/** The producer (root id `queue-producer`): enqueues "METHOD PATH" for each request. */
class EventProducer extends RootContext {
  queue: SharedQueue | null = null;

  createHttpContext(contextId: u32): HttpContext {
    return new EventStream(contextId, this);
  }

  /** The queue, found once the consumer has registered it. */
  resolveQueue(): SharedQueue | null {
    if (!this.queue) this.queue = SharedQueue.resolve("", QUEUE_NAME);
    return this.queue;
  }
}

class EventStream extends HttpContext {
  constructor(id: u32, readonly plugin: EventProducer) {
    super(id, plugin);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const queue = this.plugin.resolveQueue();
    if (!queue) {
      log.debug("queue: no consumer has registered the queue yet");
      return FilterHeadersStatus.Continue;
    }
    const method = this.requestHeaders.get(":method");
    const path = this.requestHeaders.get(":path");
    queue.enqueueString((method ? method : "-") + " " + (path ? path : "-"));
    return FilterHeadersStatus.Continue;
  }
}

const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/** The method of an event; anything unusual counts as "other", so clients cannot mint metric names. */
function methodOf(event: string): string {
  const space = event.indexOf(" ");
  const method = space < 0 ? event : event.substring(0, space);
  return KNOWN_METHODS.includes(method) ? method : "other";
}

registerNamedRootContext("queue-consumer", (contextId: u32): RootContext => new EventAggregator(contextId));
registerNamedRootContext("queue-producer", (contextId: u32): RootContext => new EventProducer(contextId));
