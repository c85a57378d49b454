// One worker thread of the dev proxy, as one Envoy worker: its own VM of every filter (started
// after the main thread's canary), its own ticks, callouts and connections. Worker 0 opens the
// listening socket; the others serve the same socket (its fd), so the kernel hands each new
// connection to whichever worker is free to accept it, and a worker stuck in a callback does
// not take new ones. Logs and events go to the main thread over the channel; shared data and
// queues live there too (shared-broker.ts).

import { Writable } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { setCallbackWatch } from "../../host/callback-watch.js";
import { useSharedStateBackend, type QueueConsumer } from "../../host/shared-state.js";
import { flushPosted } from "../../host/vm.js";
import { DevProxy, type DevProxyOptions } from "../proxy.js";
import { Channel, type Message } from "./channel.js";
import { remoteSharedState, type BrokerLink } from "./shared-broker.js";
import { publishingWatch, type WatchLink } from "./watchdog.js";

export interface WorkerSetup {
  index: number;
  /** The proxy's options, without what only the main thread does (admin, watch, output). */
  options: Omit<DevProxyOptions, "out" | "adminPort" | "watch" | "worker" | "listenFd" | "banner" | "record" | "recordSink" | "inspectorSink">;
  /** Worker 0: null (it opens the port); the others: worker 0's listening fd. */
  listenFd: number | null;
  /** Several workers: this one's index is on its log lines and events (one worker's read as a single thread's). */
  tagged: boolean;
  /** Whether the main thread's output is a terminal (colour, request logging default). */
  isTTY: boolean;
  broker: BrokerLink;
  /** --record: each exchange's record goes to the main thread, which writes the one file. */
  record: boolean;
  /** The admin port is on: inspector events go to the main thread, which serves the page. */
  inspect: boolean;
  /** The callback deadline is kept by the main thread: publish each outermost callback here. */
  watch: WatchLink | null;
}

const setup = workerData as WorkerSetup;
const channel = new Channel(parentPort!);
const consumers = new Map<number, QueueConsumer>();
useSharedStateBackend(remoteSharedState(setup.broker, consumers));
if (setup.watch) setCallbackWatch(publishingWatch(setup.watch, (id, text) => channel.emit("watch-name", { id, text })));

const out = Object.assign(
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      channel.emit("out", String(chunk));
      done();
    },
  }),
  { isTTY: setup.isTTY },
);

const proxy = new DevProxy({
  ...setup.options,
  out,
  adminPort: null,
  watch: false,
  worker: setup.tagged ? setup.index : undefined,
  banner: false,
  listenFd: setup.listenFd ?? undefined,
  recordSink: setup.record ? (r) => channel.emit("record", r) : undefined,
  inspectorSink: setup.inspect ? (e) => channel.emit("inspector", e) : undefined,
});

channel.on("queue-ready", (m: Message) => {
  consumers.get(m.token as number)?.notify(m.token as number);
  flushPosted();
  proxy.settle();
});
channel.on("stats", () => proxy.stats());
channel.on("reload", (m: Message) => proxy.reloadFilter(m.index as number, m.bytes as Uint8Array));
channel.on("stop", async () => {
  await proxy.stop();
  return { type: "stopped" };
});

proxy.start().then(
  ({ url }) => channel.send({ type: "listening", url, fd: proxy.listeningFd }),
  (e: Error) => channel.send({ type: "failed", message: e.message }),
);
