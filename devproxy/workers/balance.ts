// Spreads keep-alive connections over the worker threads. Envoy's workers balance by the kernel
// (a listening socket per worker with SO_REUSEPORT) or move an accepted connection to the
// worker with the fewest (exact_balance); Node 20 has neither SO_REUSEPORT nor a way to move a
// socket between threads, and the worker that wakes first accepts every connection waiting (32
// opened at once all land on one worker and stay there). So each worker publishes how many
// connections it holds, and one holding more than its share answers the next request on one of
// them with `Connection: close` (RFC 9112 §9.6): the client reconnects, and the new connection
// goes to whichever worker accepts first, most often one that is not busy.

import type http from "node:http";
import type { Socket } from "node:net";

/** Held over ceil(total / workers) by more than this before a worker closes one: no flapping on odd counts. */
const MARGIN = 1;
/** A worker's event loop turns this often when it is free to accept... */
const BEAT_MS = 100;
/** ...and one that has not for this long (stuck in a callback) takes no share: closing for it would only bring the connection back. */
const STALE_MS = 500;

/**
 * Per worker, the connections it holds (open and not closing); then how many were closed to be
 * spread and have not come back yet (they count in the total a share is taken of, or a worker
 * would close far more than its excess before the first reconnect lands); then per worker when
 * its loop last turned (Date.now() as int32, compared modulo 2^32).
 */
export function balanceCounts(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * (2 * workers + 1));
}

/** Worker `index`'s side: counts `server`'s connections and closes its excess ones after their next response. */
export function balanceConnections(server: http.Server, counts: SharedArrayBuffer, index: number): void {
  const cells = new Int32Array(counts);
  const workers = (cells.length - 1) / 2;
  const away = workers;
  const beat = (i: number) => workers + 1 + i;
  const closing = new WeakSet<Socket>();
  /** Connections that have not had a request yet: while a burst of them is still being accepted the counts are short. */
  const fresh = new WeakSet<Socket>();
  const overShare = () => {
    const now = Date.now() | 0;
    let total = Atomics.load(cells, away);
    let live = 0;
    for (let i = 0; i < workers; i++) {
      if (i !== index && ((now - Atomics.load(cells, beat(i))) | 0) > STALE_MS) continue;
      total += Atomics.load(cells, i);
      live++;
    }
    return Atomics.load(cells, index) > Math.ceil(total / live) + MARGIN;
  };
  const returned = () => {
    for (let n = Atomics.load(cells, away); n > 0; n = Atomics.load(cells, away)) if (Atomics.compareExchange(cells, away, n, n - 1) === n) return;
  };
  const alive = () => Atomics.store(cells, beat(index), Date.now() | 0);
  alive();
  const beating = setInterval(alive, BEAT_MS).unref();
  server.once("close", () => clearInterval(beating));

  server.on("connection", (socket: Socket) => {
    Atomics.add(cells, index, 1);
    fresh.add(socket);
    // Taken as the return of one closed to be spread, if any is away.
    returned();
    socket.once("close", () => {
      if (!closing.has(socket)) Atomics.sub(cells, index, 1);
    });
  });
  // Before the proxy's own listener, which may answer at once.
  server.prependListener("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const ahead = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (ahead !== res) {
      // Pipelined behind an earlier response: Node would drop this request after a closing one, so
      // that one keeps the connection open if its headers have not gone yet.
      if (ahead && closing.has(socket) && !ahead.headersSent) {
        ahead.shouldKeepAlive = true;
        closing.delete(socket);
        Atomics.add(cells, index, 1);
        returned();
      }
      return;
    }
    // A connection's first request is never closed: the counts may not have the rest of its burst
    // yet, and a reconnect that landed on the same worker again gets a request's time before the next try.
    if (fresh.delete(socket)) return;
    // HTTP/1.0 without keep-alive, or the client's own `Connection: close`: it ends here anyway.
    if (!res.shouldKeepAlive || !overShare()) return;
    res.shouldKeepAlive = false;
    closing.add(socket);
    Atomics.sub(cells, index, 1);
    Atomics.add(cells, away, 1);
  });
}
