// The inspector's routes on the admin port: the page (static files shipped in the package, no
// build step, no network), a JSON snapshot, and a Server-Sent Events stream of updates batched
// four times a second. What it holds per client is bounded: a client that does not read is
// dropped (its EventSource reconnects and starts again from a snapshot).

import { readFileSync } from "node:fs";
import type http from "node:http";
import { fileURLToPath } from "node:url";
import type { InspectorEvent, LateCallout, RequestEnd, RequestStart } from "./events.js";
import type { InspectorModel } from "./model.js";

/** dist/devproxy/inspector/server.js → devproxy/inspector/page/ (the sources ship with the package). */
const PAGE_DIR = fileURLToPath(new URL("../../../devproxy/inspector/page/", import.meta.url));
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/inspector.js": { file: "inspector.js", type: "text/javascript; charset=utf-8" },
  "/inspector.css": { file: "inspector.css", type: "text/css; charset=utf-8" },
};
/** The page runs only its own script and talks only to this port: a header value can never become code. */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};
const FLUSH_MS = 250;
/** Per flush, at most this many of each kind go out (the rest are in the next snapshot). */
const MAX_BATCH = 50;
const MAX_CLIENTS = 16;
/** A client with more than this unsent is dropped. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** Stats go out at least this often, so the leak alarm clears when its window passes. */
const STATS_EVERY_MS = 2000;

export class InspectorServer {
  private readonly files = new Map<string, Buffer>();
  private readonly clients = new Set<http.ServerResponse>();
  private batch = { requests: [] as RequestEnd[], starts: [] as RequestStart[], callouts: [] as LateCallout[], dirty: false };
  private timer: NodeJS.Timeout | null = null;
  private lastStats = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly model: InspectorModel) {
    for (const { file } of Object.values(FILES)) this.files.set(file, readFileSync(PAGE_DIR + file));
    this.unsubscribe = model.subscribe((e) => this.collect(e));
  }

  /** Serves `pathname` if it is the inspector's; false otherwise. */
  handle(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const page = FILES[pathname];
    if (page) {
      const body = this.files.get(page.file)!;
      res.writeHead(200, { "content-type": page.type, "content-length": body.length, ...PAGE_HEADERS });
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    }
    if (pathname === "/inspector/state") {
      const body = JSON.stringify(this.model.snapshot());
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    }
    if (pathname === "/inspector/events") {
      this.stream(res);
      return true;
    }
    return false;
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }

  private stream(res: http.ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end(`at most ${MAX_CLIENTS} inspector pages at once\n`);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.model.snapshot())}\n\n`);
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
    if (!this.timer) {
      this.timer = setInterval(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  private collect(event: InspectorEvent): void {
    if (this.clients.size === 0) return;
    const b = this.batch;
    if (event.type === "request-end") b.requests.push(event);
    else if (event.type === "request-start") b.starts.push(event);
    else if (event.type === "callout") b.callouts.push(event);
    b.dirty = true;
    // Keep only the newest of each kind: a flood does not pile up between flushes.
    for (const list of [b.requests, b.starts, b.callouts]) if (list.length > 2 * MAX_BATCH) list.splice(0, list.length - MAX_BATCH);
  }

  private flush(): void {
    if (this.clients.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.batch = { requests: [], starts: [], callouts: [], dirty: false };
      return;
    }
    const now = Date.now();
    if (!this.batch.dirty && now - this.lastStats < STATS_EVERY_MS) return;
    this.lastStats = now;
    const b = this.batch;
    this.batch = { requests: [], starts: [], callouts: [], dirty: false };
    const update = {
      requests: b.requests.slice(-MAX_BATCH),
      dropped: Math.max(0, b.requests.length - MAX_BATCH),
      starts: b.starts.slice(-MAX_BATCH),
      callouts: b.callouts.slice(-MAX_BATCH),
      total: this.model.total,
      phases: this.model.phaseStats(),
      memory: this.model.memoryStats(),
    };
    const message = `event: update\ndata: ${JSON.stringify(update)}\n\n`;
    for (const client of this.clients) {
      if (client.writableLength > MAX_UNSENT_BYTES) client.destroy();
      else client.write(message);
    }
  }
}
