// What the dev proxy's hostile-input tests drive it with: a filter whose misbehaviour is chosen
// per request (header x-case), an upstream that misbehaves per path, and raw HTTP/1.1 over a
// socket for requests no well-behaved client would send. Everything on 127.0.0.1, every wait
// bounded.

import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { data, filter } from "../host/support/wat.js";

/** x-case values (the first byte selects what the filter does). */
export const CASE = {
  replyStatus99999: "a",
  replyStatusMinus5: "b",
  statusAbc: "c",
  status200Ok: "d",
  responseValueCrLf: "e",
  responseValueNul: "f",
  responseNameSpace: "g",
  requestValueLf: "h",
  bufferRequest: "i",
  bufferResponse: "j",
} as const;

const [A, B, C, D, E, F, G, H, I, J] = [..."abcdefghij"].map((c) => c.charCodeAt(0));

/** A filter (hand-written WAT, not our SDK) that misbehaves as the request's x-case header says. */
export function hostileFilter(): Uint8Array {
  const is = (c: number) => `(i32.eq (global.get $case) (i32.const ${c}))`;
  const addResponse = (name: number, nameLen: number, value: number, valueLen: number) =>
    `(drop (call $proxy_add_header_map_value (i32.const 2) (i32.const ${name}) (i32.const ${nameLen}) (i32.const ${value}) (i32.const ${valueLen})))`;
  const setStatus = (value: number, len: number) =>
    `(drop (call $proxy_replace_header_map_value (i32.const 2) (i32.const 120) (i32.const 7) (i32.const ${value}) (i32.const ${len})))`;
  return filter({
    imports: ["proxy_get_header_map_value", "proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_send_local_response"],
    body: `
  ${data(100, "x-case")}
  ${data(120, ":status")}
  ${data(130, "abc")}
  ${data(140, "200 OK")}
  ${data(150, "x-bad")}
  ${data(160, "a\r\nb")}
  ${data(170, "a\0b")}
  ${data(180, "x bad")}
  ${data(190, "ok")}
  ${data(400, "a\nb")}
  (global $case (mut i32) (i32.const 0))
  (func $reply (param $status i32)
    (drop (call $proxy_send_local_response (local.get $status) (i32.const 0) (i32.const 0) (i32.const 190) (i32.const 2)
      (i32.const 0) (i32.const 0) (i32.const -1))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (global.set $case (i32.const 0))
    (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304)))
      (then (if (i32.gt_u (i32.load (i32.const 304)) (i32.const 0))
        (then (global.set $case (i32.load8_u (i32.load (i32.const 300))))))))
    (if ${is(A)} (then (call $reply (i32.const 99999)) (return (i32.const 1))))
    (if ${is(B)} (then (call $reply (i32.const -5)) (return (i32.const 1))))
    (if ${is(H)} (then (drop (call $proxy_add_header_map_value (i32.const 0) (i32.const 150) (i32.const 5) (i32.const 400) (i32.const 3)))))
    (i32.const 0))
  ;; StopIterationAndBuffer until the end of the body
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (if (result i32) (i32.and ${is(I)} (i32.eqz (local.get 2))) (then (i32.const 1)) (else (i32.const 0))))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (if ${is(C)} (then ${setStatus(130, 3)}))
    (if ${is(D)} (then ${setStatus(140, 6)}))
    (if ${is(E)} (then ${addResponse(150, 5, 160, 4)}))
    (if ${is(F)} (then ${addResponse(150, 5, 170, 3)}))
    (if ${is(G)} (then ${addResponse(180, 5, 190, 2)}))
    (if ${is(J)} (then (return (i32.const 3)))) ;; StopAllIterationAndBuffer: the body is held against the limit
    (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
    (if (result i32) (i32.and ${is(J)} (i32.eqz (local.get 2))) (then (i32.const 1)) (else (i32.const 0))))`,
  });
}

export interface SeenRequest {
  method: string;
  /** The request target exactly as it arrived. */
  url: string;
  rawHeaders: string[];
  bodyBytes: number;
}

export interface TestUpstream {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * An upstream that answers by path: /bytes/N sends N bytes; /status099 and /no-content-5 write a
 * raw response Node's server would refuse to; /hang never answers; /many-headers sends 150
 * headers; anything else answers 200
 * "ok" after reading (and counting, not keeping) the body.
 */
export async function startUpstream(): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    let bodyBytes = 0;
    const entry: SeenRequest = { method: req.method ?? "", url: req.url ?? "", rawHeaders: req.rawHeaders, bodyBytes: 0 };
    seen.push(entry);
    req.on("data", (d: Buffer) => (bodyBytes += d.length));
    req.on("end", () => {
      entry.bodyBytes = bodyBytes;
      const url = req.url ?? "";
      const bytes = /^\/bytes\/(\d+)$/.exec(url);
      if (bytes) {
        const total = Number(bytes[1]);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      if (url === "/status099") return void req.socket.end("HTTP/1.1 099 X\r\ncontent-length: 0\r\n\r\n");
      if (url === "/no-content-5") return void req.socket.end("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n");
      if (url === "/hang") return void hanging.add(res);
      if (url === "/many-headers") {
        for (let i = 0; i < 150; i++) res.setHeader(`x-up-${i}`, "1");
        return void res.end("ok");
      }
      res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** Sends bytes as they are and reads one response (or whatever arrives before the close). */
export function rawRequest(proxyUrl: string, bytes: string | Buffer, ms = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${ms} ms; got ${JSON.stringify(Buffer.concat(chunks).toString("latin1").slice(0, 300))}`));
    }, ms);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const head = end >= 0 ? text.slice(0, end) : text;
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body: end >= 0 ? text.slice(end + 4) : "" });
    });
    socket.write(bytes);
  });
}

/** One request with http.request (keep-alive off), reading the whole response. */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string> | string[]; body?: Buffer | string; ms?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${opts.ms ?? 10_000} ms`)), opts.ms ?? 10_000);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(opts.body);
  });
}

/** The child's resident set (VmRSS) and its peak (VmHWM), in bytes, from /proc. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}
