// The dev proxy soak: `proxy-wasm-as run` (a child process) with the prime authorizer in front
// of a local upstream, held under concurrent large uploads and downloads, slow clients and
// abrupt disconnects, while its memory is sampled from /proc. First it times the transfers of
// issue 14 item 2: a 16 MB upload, a 16 MB download, and a small request behind a 16 MB upload.
//
//   npm run soak:devproxy [-- --seconds S] [--concurrency N] [--transfer-only] [--json]
//
// Prints the figures (requests, bytes, errors, peak RSS growth, seconds). Exit status 1 when the
// proxy died, answered wrongly, or its resident memory grew past --max-growth-mb (default 96).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const MB = 1024 * 1024;

interface Args {
  seconds: number;
  concurrency: number;
  transferOnly: boolean;
  json: boolean;
  maxGrowthMb: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { seconds: 30, concurrency: 8, transferOnly: false, json: false, maxGrowthMb: 96 };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`bad ${flag} '${v}': a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") out.json = true;
    else if (a === "--transfer-only") out.transferOnly = true;
    else if (a === "--seconds") out.seconds = num(a, argv[++i]);
    else if (a === "--concurrency") out.concurrency = Math.floor(num(a, argv[++i]));
    else if (a === "--max-growth-mb") out.maxGrowthMb = num(a, argv[++i]);
    else throw new Error(`unknown argument ${a} (usage: soak:devproxy [--seconds S] [--concurrency N] [--transfer-only] [--json])`);
  }
  return out;
}

/** An upstream that discards what it is sent and sends /bytes/N as N bytes, slowly with ?slow. */
async function startUpstream(): Promise<{ url: string; close(): void }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const m = /^\/bytes\/(\d+)(\?slow)?$/.exec(req.url ?? "");
      if (!m) return void res.writeHead(200, { "content-length": 2 }).end("ok");
      const total = Number(m[1]);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
      let sent = 0;
      const pump = () => {
        while (sent < total && !res.destroyed) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (m[2]) {
            res.write(chunk.subarray(0, n));
            return void setTimeout(pump, 20);
          }
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

interface Proxy {
  url: string;
  pid: number;
  alive: () => boolean;
  stop(): Promise<void>;
}

async function startProxy(upstream: string): Promise<Proxy> {
  const wasm = `${root}examples/prime-authorizer/build/plugin.wasm`;
  const child = spawn(process.execPath, [`${root}dist/cli/main.js`, "run", wasm, "--upstream", upstream, "--port", "0", "--no-admin", "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let exited = false;
  child.on("exit", () => (exited = true));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("the dev proxy did not start within 30 s")), 30_000);
    child.stdout.on("data", (d) => {
      buffered += d;
      const m = /"event":"listening","url":"([^"]+)"/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
      if (buffered.length > 64 * 1024) buffered = buffered.slice(-1024);
    });
    child.on("exit", (code) => reject(new Error(`the dev proxy exited (${code}) before listening`)));
  });
  child.stdout.resume();
  return {
    url,
    pid: child.pid!,
    alive: () => !exited,
    stop: () =>
      new Promise((r) => {
        if (exited) return r();
        child.once("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

interface Outcome {
  status: number;
  bytes: number;
}

/** One request; the body is sent in `pieces` writes, `pause` ms apart; the response is counted, not kept. */
function request(
  base: string,
  path: string,
  opts: { method?: string; token?: string; body?: number; pieces?: number; pause?: number; cutAfterMs?: number; readSlowly?: boolean } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { token: opts.token ?? "13" };
    if (opts.body !== undefined) headers["content-length"] = String(opts.body);
    let bytes = 0;
    const req = http.request(`${base}${path}`, { method: opts.method ?? (opts.body ? "POST" : "GET"), headers, agent: false }, (res) => {
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        if (opts.readSlowly) {
          res.pause();
          setTimeout(() => res.resume(), 5);
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.cutAfterMs !== undefined) setTimeout(() => req.destroy(new Error("cut")), opts.cutAfterMs);
    const total = opts.body ?? 0;
    const pieces = Math.max(1, opts.pieces ?? 1);
    const piece = Buffer.alloc(Math.ceil(total / pieces), 0x62);
    let sent = 0;
    const next = () => {
      while (sent < total) {
        const n = Math.min(piece.length, total - sent);
        sent += n;
        const ok = req.write(n === piece.length ? piece : piece.subarray(0, n));
        if (opts.pause) return void setTimeout(next, opts.pause);
        if (!ok) return void req.once("drain", next);
      }
      req.end();
    };
    next();
  });
}

/** The three timings of issue 14 item 2, and the same transfers straight to the upstream for scale. */
async function transfers(
  base: string,
  upstream: string,
): Promise<{ upload16MbMs: number; download16MbMs: number; smallBehindUploadMs: number; directUpload16MbMs: number; directDownload16MbMs: number }> {
  const time = async (f: () => Promise<Outcome>, expect: number) => {
    const t = performance.now();
    const o = await f();
    if (o.status !== 200 || o.bytes !== expect) throw new Error(`unexpected answer ${o.status}, ${o.bytes} bytes`);
    return Math.round(performance.now() - t);
  };
  const upload16MbMs = await time(() => request(base, "/upload", { body: 16 * MB, pieces: 256 }), 2);
  const download16MbMs = await time(() => request(base, `/bytes/${16 * MB}`), 16 * MB);
  const upload = request(base, "/upload", { body: 16 * MB, pieces: 256 });
  await new Promise((r) => setTimeout(r, 50));
  const smallBehindUploadMs = await time(() => request(base, "/small"), 2);
  await upload;
  const directUpload16MbMs = await time(() => request(upstream, "/upload", { body: 16 * MB, pieces: 256 }), 2);
  const directDownload16MbMs = await time(() => request(upstream, `/bytes/${16 * MB}`), 16 * MB);
  return { upload16MbMs, download16MbMs, smallBehindUploadMs, directUpload16MbMs, directDownload16MbMs };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const say = (text: string) => {
    if (!args.json) process.stderr.write(`${text}\n`);
  };
  const started = performance.now();
  const upstream = await startUpstream();
  const proxy = await startProxy(upstream.url);
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (proxy.alive()) peakRss = Math.max(peakRss, memory(proxy.pid).rss);
  }, 100);
  try {
    const timing = await transfers(proxy.url, upstream.url);
    say(`transfers: ${JSON.stringify(timing)}`);
    if (args.transferOnly) {
      process.stdout.write(`${JSON.stringify({ ...timing, seconds: Math.round((performance.now() - started) / 100) / 10 })}\n`);
      return;
    }
    const baseline = memory(proxy.pid).rss;
    peakRss = baseline;
    const figures = { requests: 0, bytesUp: 0, bytesDown: 0, cut: 0, denied: 0, errors: 0, errorSamples: [] as string[] };
    const deadline = performance.now() + args.seconds * 1000;
    // Each kind of client, in turn on each connection slot: the proxy sees them all at once.
    const kinds: (() => Promise<void>)[] = [
      async () => {
        const o = await request(proxy.url, "/up", { body: 4 * MB, pieces: 64 });
        figures.bytesUp += 4 * MB;
        if (o.status !== 200) throw new Error(`large upload: ${o.status}`);
      },
      async () => {
        const o = await request(proxy.url, `/bytes/${4 * MB}`);
        figures.bytesDown += o.bytes;
        if (o.status !== 200 || o.bytes !== 4 * MB) throw new Error(`large download: ${o.status} ${o.bytes}`);
      },
      async () => {
        const o = await request(proxy.url, "/slow-up", { body: 256 * 1024, pieces: 32, pause: 10 });
        figures.bytesUp += 256 * 1024;
        if (o.status !== 200) throw new Error(`slow upload: ${o.status}`);
      },
      async () => {
        const o = await request(proxy.url, `/bytes/${MB}`, { readSlowly: true });
        figures.bytesDown += o.bytes;
        if (o.status !== 200 || o.bytes !== MB) throw new Error(`slow reader: ${o.status} ${o.bytes}`);
      },
      async () => {
        await request(proxy.url, `/bytes/${8 * MB}?slow`, { cutAfterMs: 30 + Math.random() * 200 }).then(
          () => undefined,
          () => undefined,
        );
        figures.cut++;
      },
      async () => {
        await request(proxy.url, "/cut-up", { body: 8 * MB, pieces: 128, pause: 2, cutAfterMs: 30 + Math.random() * 200 }).then(
          () => undefined,
          () => undefined,
        );
        figures.cut++;
      },
      async () => {
        const o = await request(proxy.url, "/denied", { token: "15" });
        if (o.status !== 403) throw new Error(`composite token: ${o.status}`);
        figures.denied++;
      },
      async () => {
        // Half a request line, then gone.
        await new Promise<void>((resolve) => {
          const { port } = new URL(proxy.url);
          const s = net.connect(Number(port), "127.0.0.1", () => s.end("GET /half HTTP/1.1\r\nHost: x\r\ntok"));
          s.on("error", () => undefined);
          s.on("close", () => resolve());
          setTimeout(() => s.destroy(), 50);
        });
        figures.cut++;
      },
    ];
    let turn = 0;
    let lastReport = performance.now();
    const slot = async () => {
      while (performance.now() < deadline && proxy.alive()) {
        const kind = kinds[turn++ % kinds.length];
        try {
          await kind();
        } catch (e) {
          figures.errors++;
          if (figures.errorSamples.length < 5) figures.errorSamples.push((e as Error).message);
        }
        figures.requests++;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          say(`${figures.requests} requests, rss ${(memory(proxy.pid).rss / MB).toFixed(1)} MB`);
        }
      }
    };
    await Promise.all(Array.from({ length: args.concurrency }, slot));
    const alive = proxy.alive();
    const end = alive ? memory(proxy.pid) : { rss: 0, peak: 0 };
    const summary = {
      ...timing,
      requests: figures.requests,
      bytesUp: figures.bytesUp,
      bytesDown: figures.bytesDown,
      disconnects: figures.cut,
      denied: figures.denied,
      errors: figures.errors,
      baselineRssMb: Math.round(baseline / MB),
      peakRssGrowthMb: Math.round(((Math.max(peakRss, end.rss) - baseline) / MB) * 10) / 10,
      endRssGrowthMb: Math.round(((end.rss - baseline) / MB) * 10) / 10,
      proxyAlive: alive,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    if (figures.errorSamples.length) say(`errors, e.g.: ${figures.errorSamples.join("; ")}`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!alive || figures.errors > 0 || summary.peakRssGrowthMb > args.maxGrowthMb) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    await proxy.stop();
    upstream.close();
  }
}

await main();
