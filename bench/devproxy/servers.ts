// The processes the dev-proxy bench runs: the upstream, the plain reverse proxies the dev proxy is held
// against, and `run` itself. Each is its own process and says "listening on URL" when it is ready.
import { spawn, type ChildProcess } from "node:child_process";

export const UPSTREAM = `
const http = require("node:http");
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("hello from upstream"));
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

/** The plain reverse proxy the dev proxy is held against. */
export const PLAIN_PROXY = `
const http = require("node:http");
const upstream = new URL(process.argv[1]);
http.createServer((req, res) => {
  const up = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on("error", () => res.writeHead(502).end());
  req.pipe(up);
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

/** The plain proxy with undici's client (Pool.dispatch, raw header lists): informational, not a reference. */
export const PLAIN_UNDICI_PROXY = `
const http = require("node:http");
const { Pool } = require(process.argv[2]);
const pool = new Pool(process.argv[1]);
const hop = new Set(["connection", "keep-alive", "transfer-encoding", "host"]);
const kept = (raw) => { const out = []; for (let i = 0; i < raw.length; i += 2) { const k = String(raw[i]).toLowerCase(); if (!hop.has(k)) out.push(k, String(raw[i + 1])); } return out; };
http.createServer((req, res) => {
  const body = req.headers["content-length"] || req.headers["transfer-encoding"] ? req : null;
  pool.dispatch({ path: req.url, method: req.method, headers: kept(req.rawHeaders), body }, {
    onConnect() {},
    onHeaders(status, raw, resume) { res.writeHead(status, kept(raw)); res.on("drain", resume); return true; },
    onData(chunk) { return res.write(chunk); },
    onComplete() { res.end(); },
    onError() { if (!res.headersSent) res.writeHead(502); res.end(); },
  });
  if (!body) req.resume();
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

export interface Server {
  url: string;
  child: ChildProcess;
}

/** Starts a server process (node with `args`) and waits for its "listening on URL" line. */
export function serve(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let seen = "";
  let found = false;
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" from ${args.join(" ")}: ${seen}`)), 60_000);
    child.stderr!.on("data", (d) => (seen += d));
    // Read all it prints (sampled request lines after the first), or its pipe fills and it blocks.
    child.stdout!.on("data", (d) => {
      if (found) return;
      seen += d;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        found = true;
        clearTimeout(timer);
        ready({ url: match[1], child });
      }
    });
    child.once("exit", (code) => fail(new Error(`${args.join(" ")} exited (${code}): ${seen}`)));
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
