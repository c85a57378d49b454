// `run`'s dev proxy with real worker threads (one unless --concurrency says otherwise), the way Envoy
// runs --concurrency workers. The main thread starts the configuration canary of every filter (one VM:
// on_vm_start, on_configure; then dropped), then N workers (worker.ts), each with its own VM of every
// filter. Worker 0 opens the listening socket and the others serve the same one, so a request never
// hops between threads. The main thread keeps what Envoy's main thread keeps: shared data and queues
// (shared-broker.ts), the admin port (stats gathered from the workers), --watch (a changed .wasm goes
// through a new canary, then to every worker), the log, and the signals: it is never busy in wasm, so
// Ctrl-C stops the proxy even while a worker runs a callback that never returns.

import { createHash } from "node:crypto";
import type http from "node:http";
import { resolve } from "node:path";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { MessageChannel, Worker } from "node:worker_threads";
import type { MetricValue } from "../../host/index.js";
import { createAdminServer } from "../admin.js";
import { filterNames, filterPlugin, readWasm, type FilterSetOptions } from "../filters.js";
import type { InspectorEvent } from "../inspector/events.js";
import { InspectorModel } from "../inspector/model.js";
import { InspectorServer } from "../inspector/server.js";
import { ENVOY_LIMITS, type Limits } from "../intake.js";
import { defaultRequestLogging, Logger } from "../log.js";
import { announce, DevProxy, hostForUrl, listen, type DevProxyOptions } from "../proxy.js";
import { RecordingFile } from "../record/file.js";
import type { ProxyStats } from "../stats.js";
import { balanceCounts } from "./balance.js";
import { Channel, type Message } from "./channel.js";
import { serveSharedState } from "./shared-broker.js";
import { watchLink, WatchedWorker } from "./watchdog.js";
import type { WorkerSetup } from "./worker.js";

export interface ThreadedOptions extends Omit<DevProxyOptions, "worker" | "listenFd" | "balance" | "banner"> {
  /** How many worker threads (Envoy's --concurrency), at least 1. */
  workers: number;
  /** A worker thread ended on its own (a crash): the proxy cannot serve on; the caller stops it. */
  onWorkerLost?: (reason: string) => void;
}

interface Running {
  thread: Worker;
  channel: Channel;
  exited: Promise<void>;
  watched: WatchedWorker | null;
}

type FilterStats = { name: string; version: number; metrics: MetricValue[] };

/** How long a worker gets to close its connections at stop before it is terminated. */
const STOP_GRACE_MS = 500;

export class ThreadedDevProxy {
  private readonly log: Logger;
  private readonly names: string[];
  private readonly paths: string[];
  private readonly hashes: string[] = [];
  private readonly versions: number[] = [];
  private readonly reloadTimers: (NodeJS.Timeout | null)[] = [];
  private readonly workers: Running[] = [];
  /** Events the workers forward (inspector traces, recordings), by sink. */
  private readonly sinks = new Map<string, (data: unknown, worker: number) => void>();
  private admin: http.Server | null = null;
  /**
   * The callback deadline (0: none), kept here (watchdog.ts) rather than by a node:vm watchdog
   * thread per callback in the workers. Several workers share one listening fd, which each one's
   * handle closes as it ends (Node 20 has no dup and no SO_REUSEPORT), so one worker cannot be
   * replaced alone: past the deadline every worker is stopped and, once all have exited, a new
   * pool binds the port afresh.
   */
  private readonly deadlineMs: number;
  private watchTimer: NodeJS.Timeout | null = null;
  /** Set while the workers are being replaced. */
  private replacing = false;
  /** Workers stopped on purpose (replaced): their exits are expected. */
  private readonly retired = new WeakSet<Worker>();
  /** The inspector's model, fed by every worker's events, with the admin port only. */
  readonly inspector: InspectorModel | null;
  private inspectorServer: InspectorServer | null = null;
  /** --record: the one file every worker's exchanges go to, numbered as they arrive. */
  private readonly recording: RecordingFile | null;
  private stopping = false;
  private readonly counts = { reloads: 0, reloadsRefused: 0 };
  /** The inspector's request ids: each worker counts from 1, and a replaced pool starts again; ids go on from `base`. */
  private readonly requestIds = { base: 0, highest: 0 };
  url = "";
  adminUrl = "";

  constructor(private readonly options: ThreadedOptions) {
    if (!(Number.isInteger(options.workers) && options.workers >= 1)) throw new Error(`bad --concurrency ${options.workers}: a whole number of worker threads, at least 1`);
    // The single-thread proxy checks the options (filters, upstream, clusters, limits) as it is built.
    new DevProxy({ ...options, out: undefined });
    const out = options.out ?? process.stdout;
    this.log = new Logger(out, options.json === true, options.verbose === true);
    this.names = filterNames(options.filters);
    this.paths = options.filters.map((f) => resolve(f.path));
    this.deadlineMs = options.vms?.callbackDeadlineMs ?? 0;
    this.inspector = options.adminPort !== null ? new InspectorModel() : null;
    this.recording = options.record ? new RecordingFile(options.record, this.log) : null;
    const model = this.inspector;
    if (model) this.onWorkerEvent("inspector", (e, worker) => model.accept(this.fromWorker(e as InspectorEvent, worker)));
    const file = this.recording;
    if (file) this.onWorkerEvent("record", (r) => file.append(r as Parameters<RecordingFile["append"]>[0]));
  }

  /** Handles events of `sink` that workers `emit` over their channel. */
  onWorkerEvent(sink: string, handler: (data: unknown, worker: number) => void): void {
    this.sinks.set(sink, handler);
    for (const [i, w] of this.workers.entries()) w.channel.onEvent(sink, (d) => handler(d, i));
  }

  /** Canary, workers, admin port; throws with the reason (and holds nothing open) if any fails. */
  async start(): Promise<{ url: string; adminUrl: string }> {
    try {
      return await this.listen();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async listen(): Promise<{ url: string; adminUrl: string }> {
    for (let i = 0; i < this.paths.length; i++) {
      const bytes = readWasm(this.paths[i]);
      const error = this.canary(i, bytes);
      if (error !== null) throw new Error(`${this.names[i]} (${this.options.filters[i].path}) did not start: ${error}`);
      this.hashes[i] = hash(bytes);
      this.versions[i] = 1;
    }
    this.recording?.open(
      this.options.filters.map((f, i) => ({ name: this.names[i], path: this.paths[i], sha256: this.hashes[i], configuration: f.configuration, rootId: f.rootId, vmId: f.vmId })),
      Object.keys(this.options.clusters ?? {}),
      { ...ENVOY_LIMITS, ...this.options.limits }.bufferLimitBytes,
    );
    this.url = await this.spawnAll(this.options.port);
    if (this.deadlineMs > 0) {
      this.watchTimer = setInterval(() => this.checkDeadline(), Math.min(100, Math.max(10, Math.floor(this.deadlineMs / 10))));
      this.watchTimer.unref();
    }
    const host = this.options.host ?? "127.0.0.1";
    if (this.options.adminPort !== null) {
      this.inspectorServer = new InspectorServer(this.inspector!);
      this.admin = createAdminServer(() => this.stats(), this.inspectorServer);
      this.adminUrl = `http://${hostForUrl(host)}:${await listen(this.admin, this.options.adminPort ?? 9901, host, "admin port")}`;
    }
    if (this.options.watch) this.watch();
    announce(this.log, {
      host,
      url: this.url,
      adminUrl: this.adminUrl,
      filters: this.names.map((name, i) => ({ name, path: this.paths[i] })),
      upstream: this.options.upstream ?? null,
      clusters: this.options.clusters ?? {},
      limits: { ...ENVOY_LIMITS, ...this.options.limits } as Limits,
      watch: this.options.watch === true,
      workers: this.options.workers,
      record: this.recording?.path,
    });
    return { url: this.url, adminUrl: this.adminUrl };
  }

  /** Envoy's configuration canary: a VM that starts and configures, then is dropped. Returns the error, or null. */
  private canary(index: number, bytes: Uint8Array): string | null {
    const plugin = filterPlugin(bytes, this.options.filters[index], this.names[index], this.filterOptions(), this.paths[index]);
    const start = plugin.start();
    this.log.pluginLogs(start.logs.map((l) => ({ filter: this.names[index], ...l })));
    return start.ok ? null : (start.error ?? "the plugin did not start");
  }

  private filterOptions(): FilterSetOptions {
    const o = this.options;
    return {
      filters: o.filters,
      clusters: o.clusters ?? {},
      failOpen: o.failOpen === true,
      vms: { ...o.vms, concurrency: undefined, callerManagesVms: true },
      logLevel: o.logLevel ?? "info",
      bufferLimitBytes: { ...ENVOY_LIMITS, ...o.limits }.bufferLimitBytes,
      verbose: o.verbose === true,
    };
  }

  /** Worker 0 opens the port, the others serve its socket, all spreading its connections (balance.ts); returns the proxy's URL. */
  private async spawnAll(port: number | undefined): Promise<string> {
    const counts = this.options.workers > 1 ? balanceCounts(this.options.workers) : null;
    const first = await this.spawn(0, null, port, counts);
    if (this.options.workers > 1) {
      if (first.fd === null) throw new Error("the listening socket has no file descriptor to share with other workers on this platform");
      await Promise.all(Array.from({ length: this.options.workers - 1 }, (_, k) => this.spawn(k + 1, first.fd, port, counts)));
    }
    return first.url;
  }

  /**
   * A worker ran one callback past the deadline: it is stopped (terminated: its connections are
   * reset, as when an Envoy worker dies; its listening socket closes with it) and replaced, with
   * new VMs, on the same port. With several workers all of them are (see deadlineMs).
   */
  private checkDeadline(): void {
    if (this.stopping || this.replacing) return;
    for (const [i, w] of this.workers.entries()) {
      const late = w.watched?.overdue(this.deadlineMs);
      if (!late) continue;
      const n = this.workers.length;
      // Named only among several, as the workers' own lines are tagged only then.
      const where = n === 1 ? "" : ` on worker ${i}`;
      this.log.error(
        `${late.plugin}: ${late.callback} ran for ${late.elapsedMs} ms${where}, past the callback deadline of ${this.deadlineMs} ms: ` +
          (n === 1
            ? "the worker was stopped (its connections reset) and replaced, with new VMs"
            : `all ${n} workers were stopped (every connection of every worker reset: they share one listening socket) and replaced, with new VMs`),
      );
      void this.replaceWorkers();
      return;
    }
  }

  private async replaceWorkers(): Promise<void> {
    this.replacing = true;
    const old = this.workers.splice(0);
    for (const w of old) this.retired.add(w.thread);
    // Every old handle on the shared fd must be closed before a new socket can get its number.
    await Promise.all(old.map(async (w) => (await w.thread.terminate(), await w.exited)));
    this.requestIds.base = this.requestIds.highest;
    try {
      if (!this.stopping) await this.spawnAll(Number(new URL(this.url).port));
    } catch (e) {
      const reason = `replacing the workers failed: ${(e as Error).message}`;
      this.log.error(reason);
      this.options.onWorkerLost?.(reason);
    } finally {
      this.replacing = false;
    }
  }

  private spawn(index: number, listenFd: number | null, port: number | undefined, counts: SharedArrayBuffer | null): Promise<{ url: string; fd: number | null }> {
    const out = this.options.out ?? process.stdout;
    const rpc = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const o = this.options;
    const setup: WorkerSetup = {
      index,
      options: {
        filters: o.filters,
        port,
        host: o.host,
        upstream: o.upstream,
        clusters: o.clusters,
        failOpen: o.failOpen,
        // The main thread keeps the deadline (watchdog.ts).
        vms: { ...o.vms, concurrency: undefined, callerManagesVms: true, callbackDeadlineMs: this.deadlineMs > 0 ? 0 : o.vms?.callbackDeadlineMs },
        logLevel: o.logLevel,
        json: o.json,
        verbose: o.verbose,
        limits: o.limits,
        requestLogging: o.requestLogging ?? defaultRequestLogging(out, o.json === true),
        balance: counts ? { counts, index } : undefined,
      },
      tagged: o.workers > 1,
      listenFd,
      isTTY: (out as { isTTY?: boolean }).isTTY === true,
      broker: { port: rpc.port2, flag },
      record: this.recording !== null,
      inspect: this.inspector !== null,
      watch: this.deadlineMs > 0 ? watchLink() : null,
    };
    const watched = setup.watch ? new WatchedWorker(setup.watch) : null;
    const thread = new Worker(new URL("./worker.js", import.meta.url), { workerData: setup, transferList: [rpc.port2] });
    const channel = new Channel(thread);
    serveSharedState({ port: rpc.port1, flag }, (token) => channel.send({ type: "queue-ready", token }));
    rpc.port1.unref();
    channel.onEvent("out", (text) => out.write(text as string));
    channel.onEvent("watch-name", (d) => watched?.named((d as { id: number }).id, (d as { text: string }).text));
    for (const [sink, handler] of this.sinks) channel.onEvent(sink, (d) => handler(d, index));
    let lastError = "";
    thread.on("error", (e) => (lastError = e.message));
    // Named only among several, as the workers' own lines are tagged only then.
    const who = o.workers > 1 ? `worker ${index}` : "the worker";
    const exited = new Promise<void>((done) =>
      thread.once("exit", (code) => {
        rpc.port1.close();
        channel.close(`${who} exited`);
        if (!this.stopping && !this.retired.has(thread)) {
          const reason = `${who} stopped (exit code ${code}${lastError ? `: ${lastError}` : ""}); its listening socket went with it`;
          this.log.error(reason);
          this.options.onWorkerLost?.(reason);
        }
        done();
      }),
    );
    this.workers.push({ thread, channel, exited, watched });
    return new Promise((ready, fail) => {
      channel.on("listening", (m: Message) => ready({ url: m.url as string, fd: (m.fd as number | null) ?? null }));
      channel.on("failed", (m: Message) => fail(new Error(m.message as string)));
      void exited.then(() => fail(new Error(`${who} exited before it listened${lastError ? `: ${lastError}` : ""}`)));
    });
  }

  /** What GET /stats shows: each filter's metrics added up over the workers (Envoy keeps one stat per name). */
  async stats(): Promise<{ filters: FilterStats[]; proxy: ProxyStats }> {
    const answers = await Promise.all(this.workers.map((w) => w.channel.request({ type: "stats" }, 2000).catch(() => null)));
    const filters: FilterStats[] = this.names.map((name) => ({ name, version: 0, metrics: [] }));
    const proxy: ProxyStats = { requests: 0, byStatus: [], reloads: this.counts.reloads, reloadsRefused: this.counts.reloadsRefused, callouts: 0, calloutFailures: 0 };
    const byStatus = new Map<number, number>();
    for (const answer of answers) {
      if (answer === null) continue;
      const a = answer as unknown as { filters: FilterStats[]; proxy: ProxyStats };
      a.filters.forEach((f, i) => {
        filters[i].version = Math.max(filters[i].version, f.version);
        filters[i].metrics = mergeMetrics(filters[i].metrics, f.metrics);
      });
      proxy.requests += a.proxy.requests;
      proxy.callouts += a.proxy.callouts;
      proxy.calloutFailures += a.proxy.calloutFailures;
      for (const [status, n] of a.proxy.byStatus) byStatus.set(status, (byStatus.get(status) ?? 0) + n);
    }
    proxy.byStatus = [...byStatus];
    return { filters, proxy };
  }

  /**
   * A worker's inspector event as the main thread's model takes it. Request ids go on from the
   * ids of a pool this one replaced; with several workers they and VM names carry the worker
   * ("1.7", "add-header v1 w1"), since each worker counts and names its own; with one worker they
   * read as on a single thread ("7", "add-header v1").
   */
  private fromWorker(event: InspectorEvent, worker: number): InspectorEvent {
    const tagged = this.options.workers > 1;
    const id = (n: string) => {
      const counted = this.requestIds.base + Number(n);
      this.requestIds.highest = Math.max(this.requestIds.highest, counted);
      return tagged ? `${worker}.${counted}` : String(counted);
    };
    switch (event.type) {
      case "request-start":
      case "request-end":
        return { ...event, id: id(event.id) };
      case "callout":
        return { ...event, requestId: id(event.requestId) };
      case "memory":
        return tagged ? { ...event, vm: `${event.vm} w${worker}` } : event;
    }
  }

  /** --watch: a changed .wasm gets a new canary; if it starts, every worker loads it, else the old version keeps serving. */
  private watch(): void {
    this.paths.forEach((path, i) => {
      watchFile(path, { interval: 200 }, (curr: Stats, prev: Stats) => {
        if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
        if (this.reloadTimers[i]) clearTimeout(this.reloadTimers[i]!);
        this.reloadTimers[i] = setTimeout(() => {
          this.reloadTimers[i] = null;
          this.reload(i);
        }, 150);
      });
    });
  }

  private reload(index: number): void {
    let bytes: Uint8Array;
    try {
      bytes = readWasm(this.paths[index]);
    } catch (e) {
      return this.refuse(index, (e as Error).message);
    }
    if (hash(bytes) === this.hashes[index]) return;
    const error = this.canary(index, bytes);
    if (error !== null) return this.refuse(index, error);
    this.hashes[index] = hash(bytes);
    this.counts.reloads++;
    const version = ++this.versions[index];
    for (const w of this.workers) w.channel.send({ type: "reload", index, bytes });
    this.log.event(
      "reload",
      { filter: this.names[index], ok: true, version },
      `reloaded ${this.names[index]} (version ${version}) from ${this.paths[index]}${this.workers.length === 1 ? "" : ` on all ${this.workers.length} workers`}`,
    );
  }

  private refuse(index: number, reason: string): void {
    this.counts.reloadsRefused++;
    this.log.event(
      "reload",
      { filter: this.names[index], ok: false, version: this.versions[index], error: reason },
      `reload refused: ${this.names[index]} changed but the new version did not start: ${reason}; still serving version ${this.versions[index]}`,
      "red",
    );
  }

  /**
   * Stops the workers (terminating one stuck in a callback), the admin port and the watchers.
   * Every worker's handle on the one listening fd closes it (Node cannot duplicate an fd), so
   * after a stop the process is meant to end, as `run` does; a crashed worker likewise takes the
   * socket with it (onWorkerLost).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const path of this.paths) unwatchFile(path);
    for (const t of this.reloadTimers) if (t) clearTimeout(t);
    await Promise.all(
      this.workers.map(async (w) => {
        await Promise.race([w.channel.request({ type: "stop" }, STOP_GRACE_MS).catch(() => undefined), w.exited]);
        await w.thread.terminate();
      }),
    );
    this.recording?.close();
    this.inspectorServer?.close();
    await new Promise<void>((done) => {
      if (!this.admin?.listening) return done();
      this.admin.close(() => done());
      this.admin.closeAllConnections();
    });
  }
}

function hash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Adds one worker's metrics to the others': values summed, histogram samples kept. */
function mergeMetrics(into: MetricValue[], more: MetricValue[]): MetricValue[] {
  const merged = new Map(into.map((m) => [`${m.type}\0${m.name}`, m]));
  for (const m of more) {
    const seen = merged.get(`${m.type}\0${m.name}`);
    if (seen) {
      seen.value += m.value;
      seen.samples.push(...m.samples);
    } else {
      merged.set(`${m.type}\0${m.name}`, { ...m, samples: [...m.samples] });
    }
  }
  return [...merged.values()];
}
