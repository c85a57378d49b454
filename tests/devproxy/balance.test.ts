// workers/balance.ts on two plain Node servers standing for two workers that share one count: a
// worker holding more than its share of the connections answers one request on each excess one
// with `Connection: close` (never the first request), and only there; a pipelined request keeps its
// connection open.
import assert from "node:assert/strict";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { balanceConnections, balanceCounts } from "../../devproxy/workers/balance.js";

const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/** A raw client connection (one request sent: a connection's first request is never closed): `send` writes bytes and returns the Connection header of each response ("ok" bodies) that came back. */
async function connect(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let received = "";
  let ended = false;
  socket.on("data", (d) => (received += d));
  socket.on("end", () => (ended = true));
  const client = {
    socket,
    get ended() {
      return ended;
    },
    async send(bytes: string, responses = 1): Promise<string[]> {
      received = "";
      socket.write(bytes);
      // Until the responses are in, or the connection ends without them.
      while ((received.match(/\r\n\r\nok/g) ?? []).length < responses && !socket.destroyed) {
        await new Promise((r) => {
          const done = () => (socket.off("data", done), socket.off("close", done), r(undefined));
          socket.on("data", done).on("close", done);
        });
      }
      return received.split(/(?=HTTP\/1\.[01] )/).map((r) => /^connection: (.*)$/im.exec(r)?.[1].trim().toLowerCase() ?? "");
    },
  };
  assert.deepEqual(await client.send(get), ["keep-alive"], "a first request");
  return client;
}

describe("workers/balance.ts: Connection: close for a worker's excess connections", () => {
  const servers: http.Server[] = [];
  after(() => servers.forEach((s) => (s.closeAllConnections(), s.close())));

  /** Two servers sharing one count, as workers 0 and 1; each answers "ok" a little later, as the proxy does. */
  const workers = async () => {
    const counts = balanceCounts(2);
    const ports: number[] = [];
    for (const index of [0, 1]) {
      const server = http.createServer((_req, res) => void setTimeout(() => res.end("ok"), 5));
      balanceConnections(server, counts, index);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
    return ports;
  };

  it("8 connections on one worker, none on the other: after their first requests 3 get Connection: close (8 > ceil(8/2) + 1), then every connection stays open, the reconnects counted", async () => {
    const [zero, one] = await workers();
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(zero)));
    const first = (await Promise.all(clients.map((c) => c.send(get)))).map(([c]) => c);
    assert.deepEqual(first.filter((c) => c === "close").length, 3, JSON.stringify(first));
    assert.ok(first.every((c) => c === "close" || c === "keep-alive"), JSON.stringify(first));
    // The three come back, here to the other worker: from then on nobody is over its share.
    const back = await Promise.all(Array.from({ length: 3 }, () => connect(one)));
    const kept = clients.filter((_, i) => first[i] !== "close");
    for (let round = 0; round < 3; round++) {
      const again = await Promise.all([...kept, ...back].map((c) => c.send(get)));
      assert.deepEqual(again.map(([c]) => c), Array(8).fill("keep-alive"), `round ${round}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(clients.map((c) => c.ended), first.map((c) => c === "close"), "the closed ones ended, the others stayed");
  });

  it("a request pipelined behind one that would close: both answered on the same connection, which stays open", async () => {
    const [zero] = await workers();
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(zero)));
    const pipelined = await clients[0].send(get + get, 2);
    assert.deepEqual(pipelined, ["keep-alive", "keep-alive"]);
    // The close went to the next request instead.
    assert.deepEqual(await clients[1].send(get), ["close"]);
  });

  it("HTTP/1.0: a keep-alive connection is ended with Connection: close like an HTTP/1.1 one; one without keep-alive ends as HTTP/1.0 does", async () => {
    const [zero] = await workers();
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(zero)));
    assert.deepEqual(await clients[0].send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), ["close"]);
    assert.deepEqual(await clients[1].send("GET / HTTP/1.0\r\n\r\n"), ["close"]);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(clients[0].ended && clients[1].ended);
  });
});
