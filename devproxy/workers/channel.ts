// The one message channel between the dev proxy's main thread and a worker thread. A message is a
// plain object with a `type`; `request` waits for the answer to one (matched by id). Whatever a
// worker produces for the main thread (log lines, trace events, recordings) travels as
// `{ type: "event", sink, data }`, so forwarding a new kind is one `emit` on the worker and one
// `onEvent` on the main thread.

import type { MessagePort, Worker } from "node:worker_threads";

export interface Message {
  type: string;
  [field: string]: unknown;
}

type Port = Pick<MessagePort, "postMessage" | "on" | "off"> | Worker;

export class Channel {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, (m: Message) => unknown>();
  private readonly sinks = new Map<string, (data: unknown) => void>();
  private closedBecause: string | null = null;

  constructor(private readonly port: Port) {
    (port as MessagePort).on("message", (m: Message) => this.receive(m));
  }

  send(message: Message, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer as never);
  }

  /** Forwards one plain JSON-like object to the other side's `onEvent(sink)` handler. */
  emit(sink: string, data: unknown): void {
    this.send({ type: "event", sink, data });
  }

  onEvent(sink: string, handler: (data: unknown) => void): void {
    this.sinks.set(sink, handler);
  }

  /** Handles messages of `type`; a handler's result (or its promise's) answers a `request`. */
  on(type: string, handler: (m: Message) => unknown): void {
    this.handlers.set(type, handler);
  }

  /** Sends `message` and waits for the other side's answer, at most `timeoutMs`. */
  request(message: Message, timeoutMs: number): Promise<Message> {
    if (this.closedBecause !== null) return Promise.reject(new Error(this.closedBecause));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.send({ ...message, requestId: id });
    });
  }

  /** The other side is gone: pending requests fail with `reason`. */
  close(reason: string): void {
    this.closedBecause = reason;
    for (const w of this.waiting.values()) w.reject(new Error(reason));
    this.waiting.clear();
  }

  private receive(m: Message): void {
    if (m.type === "answer") {
      const w = this.waiting.get(m.requestId as number);
      this.waiting.delete(m.requestId as number);
      w?.resolve(m.body as Message);
      return;
    }
    if (m.type === "event") {
      this.sinks.get(m.sink as string)?.(m.data);
      return;
    }
    const handler = this.handlers.get(m.type);
    if (!handler) return;
    const result = handler(m);
    if (typeof m.requestId !== "number") return;
    void Promise.resolve(result).then(
      (body) => this.send({ type: "answer", requestId: m.requestId as number, body: body as Message }),
      (e: Error) => this.send({ type: "answer", requestId: m.requestId as number, body: { type: "error", message: e.message } }),
    );
  }
}
