// `proxy-wasm-as run PLUGIN.wasm... [--port 10000] [--upstream URL] [--cluster NAME=URL]... [--watch]`:
// serve real HTTP through the filters as one chain (Envoy's http_filters order), in front of an
// upstream URL or the built-in echo upstream. Runs until SIGINT/SIGTERM. With --watch, a .wasm that a
// filter project builds (an asconfig.json above it names it as a target's output) is rebuilt when its
// sources change, and the proxy reloads every .wasm that changes. It serves on worker threads
// (one by default, --concurrency N), as Envoy's workers; the main thread keeps the callback
// deadline, the admin port and the signals. With --inspect it serves on the main thread, which
// the debugger follows.

import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { LOG_LEVELS, type LogLevelName } from "../../host/abi/enums.js";
import type { RequestLogging } from "../../devproxy/log.js";
import { DevProxy, type FilterSpec } from "../../devproxy/proxy.js";
import { ThreadedDevProxy } from "../../devproxy/workers/pool.js";
import type { FailurePolicyName } from "../../host/index.js";
import { openInspector } from "../../host/debug/inspect.js";
import { readConfigFile } from "../config-file.js";
import { reportErrors } from "../report-errors.js";
import { outFileOf } from "./build.js";
import { watchProjects, type Watching } from "./build-watch.js";

interface RunOptions {
  port: string;
  host: string;
  adminPort: string;
  admin: boolean;
  upstream?: string;
  rootId: string[];
  vmId: string[];
  cluster: string[];
  watch?: boolean;
  failOpen?: boolean;
  failurePolicy?: string;
  reloadBackoff?: string;
  callbackDeadline: string;
  inspect?: string | true;
  concurrency?: string;
  logLevel: string;
  logRequests?: string;
  verbose?: boolean;
  json?: boolean;
  maxHeadersCount: string;
  maxRequestHeadersKb: string;
  bufferLimit: string;
  routeTimeout: string;
  record?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A whole number of milliseconds or workers; the plugin's start reports values it cannot use. */
function wholeNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} ${text}: a whole number`);
  return n;
}

function port(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`bad ${flag} '${text}': a port number (0 picks a free one)`);
  return n;
}

function whole(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < min) throw new Error(`bad ${flag} '${text}': a whole number, at least ${min}`);
  return n;
}

export function parseClusters(list: string[]): Record<string, string> {
  const clusters: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new Error(`bad --cluster '${item}': expected NAME=URL, e.g. auth=http://127.0.0.1:9001`);
    const url = item.slice(eq + 1);
    try {
      new URL(url);
    } catch {
      throw new Error(`bad --cluster '${item}': '${url}' is not a URL`);
    }
    clusters[item.slice(0, eq)] = url;
  }
  return clusters;
}

/** The filter project and asconfig target that build `wasm`, from the folders above it; null if none does. */
export function projectBuilding(wasm: string): { dir: string; target: string } | null {
  const path = resolve(wasm);
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, "asconfig.json"))) {
      let targets: string[];
      try {
        targets = Object.keys((JSON.parse(readFileSync(resolve(dir, "asconfig.json"), "utf8")) as { targets?: object }).targets ?? {});
      } catch {
        return null;
      }
      for (const target of targets.length ? targets : ["release"]) if (outFileOf(dir, target) === path) return { dir, target };
      return null;
    }
    if (dirname(dir) === dir) return null;
  }
}

export function register(program: Command): void {
  // --config and --config-file share one list, in the order given: the i-th is the i-th plugin's.
  const configs: ({ text: string } | { file: string })[] = [];
  program
    .command("run")
    .description("serve real HTTP through the filters (in order, as Envoy's http_filters) on a local dev proxy")
    .argument("<plugins...>", "the filters' .wasm files, in chain order")
    .option("--port <port>", "port to listen on (0: any free port)", "10000")
    .option("--host <address>", "address to bind", "127.0.0.1")
    .option("--admin-port <port>", "admin port with GET /stats (Prometheus)", "9901")
    .option("--no-admin", "no admin server")
    .option("--upstream <url>", "forward to this http:// URL (default: a built-in echo upstream)")
    .option("--config <string>", "plugin configuration; repeat for each plugin, in order", (v: string) => (configs.push({ text: v }), v))
    .option("--config-file <file>", "plugin configuration from a file; counts as the next --config", (v: string) => (configs.push({ file: v }), v))
    .option("--root-id <id>", "root_id; repeat for each plugin, in order", collect, [])
    .option("--vm-id <id>", "vm_id; filters with the same vm id share data and queues", collect, [])
    .option("--cluster <name=url>", "where http_call to cluster NAME goes (repeatable)", collect, [])
    .option("--watch", "rebuild a filter when its sources change (a .wasm its project builds), and reload every .wasm that changes")
    .option("--fail-open", "let requests through a filter whose VM failed (default: 503)")
    .option("--failure-policy <policy>", "FAIL_CLOSED (default; Istio FAIL_CLOSE), FAIL_OPEN or FAIL_RELOAD (a failed VM is recreated)")
    .option("--reload-backoff <ms>", "FAIL_RELOAD: the backoff's base interval (Envoy's default 1000)")
    .option("--callback-deadline <ms>", "stop a callback running longer (0: no limit): its worker is stopped, its connections reset, and a new one with new VMs serves on", "10000")
    .option(
      "--concurrency <n>",
      "serve with n worker threads, as Envoy's --concurrency (a canary, then one VM per filter per worker; default 1); with --inspect, emulated on the main thread",
    )
    .option("--log-level <level>", `plugin log level: ${LOG_LEVELS.join(", ")}`, "info")
    .option("--max-headers-count <n>", "request headers allowed (Envoy's max_headers_count); more: 431", "100")
    .option("--max-request-headers-kb <n>", "KiB of request headers allowed (Envoy's max_request_headers_kb); more: 431", "60")
    .option("--buffer-limit <bytes>", "what a filter may buffer per direction (Envoy's per_connection_buffer_limit_bytes); more: 413/500", "1048576")
    .option("--route-timeout <ms>", "from the end of the request to the end of the response (Envoy's route timeout; 0: none); then 504", "15000")
    .option("--inspect [[host:]port]", "open node's inspector (default 127.0.0.1:9229) so a debugger stops at breakpoints in the filters' AssemblyScript source (build/debug.wasm keeps every line and local); no callback deadline; serves on the main thread (one VM per filter, or --concurrency n emulated)")
    .option("--log-requests <mode>", "a line per request: all, sampled (at most one a second) or off (default: all on a terminal or with --json, else sampled)")
    .option("--verbose", "also print each filter's callbacks and statuses, and every callout")
    .option("--json", "print one JSON object per line (listening, request, log, reload, ...)")
    .option(
      "--record <file>",
      "write every exchange (the request, what each filter did, the upstream's answer, the response) to FILE as JSON Lines, for `replay`; " +
        "bodies up to --buffer-limit; headers as received, authorization and cookie values included",
    )
    .action(
      reportErrors("run", async (plugins: string[], o: RunOptions) => {
        if (!LOG_LEVELS.includes(o.logLevel as LogLevelName)) throw new Error(`bad --log-level '${o.logLevel}': one of ${LOG_LEVELS.join(", ")}`);
        if (configs.length > plugins.length) throw new Error(`${configs.length} configurations for ${plugins.length} plugin(s)`);
        if (o.rootId.length > plugins.length) throw new Error(`${o.rootId.length} --root-id for ${plugins.length} plugin(s)`);
        if (o.vmId.length > plugins.length) throw new Error(`${o.vmId.length} --vm-id for ${plugins.length} plugin(s)`);
        const filters: FilterSpec[] = plugins.map((path, i) => {
          const c = configs[i];
          let configuration: string | Uint8Array | undefined;
          if (c && "file" in c) configuration = readConfigFile(c.file);
          else if (c) configuration = c.text;
          return { path, configuration, rootId: o.rootId[i], vmId: o.vmId[i] };
        });
        if (o.inspect !== undefined) process.stderr.write(`debugger: attach to ${openInspector(o.inspect)} (VS Code: "Attach", Chrome: chrome://inspect)\n`);
        const logRequests = o.logRequests as RequestLogging | undefined;
        if (logRequests !== undefined && !["all", "sampled", "off"].includes(logRequests)) throw new Error(`bad --log-requests '${logRequests}': all, sampled or off`);
        // Worker threads (one unless --concurrency says otherwise): the main thread keeps the callback
        // deadline with two Atomics stores per callback, not a node:vm watchdog thread per callback.
        // A debugger (--inspect) follows the main thread, so it serves there.
        const threads = o.inspect === undefined ? whole(o.concurrency ?? "1", "--concurrency", 1) : null;
        let lost: ((reason: string) => void) | null = null;
        const options = {
          filters,
          port: port(o.port, "--port"),
          host: o.host,
          adminPort: o.admin ? port(o.adminPort, "--admin-port") : null,
          upstream: o.upstream ?? null,
          clusters: parseClusters(o.cluster),
          watch: o.watch === true,
          failOpen: o.failOpen === true,
          vms: {
            failurePolicy: o.failurePolicy as FailurePolicyName | undefined,
            reloadBackoffMs: o.reloadBackoff === undefined ? undefined : wholeNumber(o.reloadBackoff, "--reload-backoff"),
            // A callback stopped at a breakpoint must not be failed for taking long.
            callbackDeadlineMs: o.inspect !== undefined ? 0 : wholeNumber(o.callbackDeadline, "--callback-deadline"),
            concurrency: o.concurrency === undefined || threads !== null ? undefined : wholeNumber(o.concurrency, "--concurrency"),
          },
          logLevel: o.logLevel as LogLevelName,
          json: o.json === true,
          record: o.record,
          verbose: o.verbose === true,
          requestLogging: logRequests,
          limits: {
            maxHeadersCount: whole(o.maxHeadersCount, "--max-headers-count", 1),
            maxRequestHeadersKb: whole(o.maxRequestHeadersKb, "--max-request-headers-kb", 1),
            bufferLimitBytes: whole(o.bufferLimit, "--buffer-limit", 1),
            routeTimeoutMs: whole(o.routeTimeout, "--route-timeout", 0),
          },
        };
        const proxy = threads === null ? new DevProxy(options) : new ThreadedDevProxy({ ...options, workers: threads, onWorkerLost: (reason) => lost?.(reason) });
        // Build first, so the proxy starts with what the sources say now.
        let builds: Watching | null = null;
        if (o.watch) {
          const projects = new Map<string, string>();
          for (const p of plugins) {
            const project = projectBuilding(p);
            if (project) projects.set(project.dir, project.target);
          }
          const byTarget = new Map<string, string[]>();
          for (const [dir, target] of projects) byTarget.set(target, [...(byTarget.get(target) ?? []), dir]);
          const each = [...byTarget].map(([target, dirs]) => watchProjects(dirs, { target, json: o.json === true }));
          builds = { ready: Promise.all(each.map((w) => w.ready)).then(() => undefined), close: () => each.forEach((w) => w.close()) };
          await builds.ready;
        }
        try {
          await proxy.start();
        } catch (e) {
          builds?.close();
          throw e;
        }
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (signal: string) => {
            if (stopping) return;
            stopping = true;
            process.off("SIGINT", onInt);
            process.off("SIGTERM", onTerm);
            builds?.close();
            void proxy.stop().then(() => {
              if (o.json) process.stdout.write(`${JSON.stringify({ event: "stopped", signal })}\n`);
              else process.stdout.write(`stopped (${signal})\n`);
              resolve();
              // Whatever is still in flight (a callout, a keep-alive socket) must not keep us up.
              setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
            });
          };
          lost = () => {
            process.exitCode = 1;
            stop("a worker thread stopped");
          };
          const onInt = () => stop("SIGINT");
          const onTerm = () => stop("SIGTERM");
          process.on("SIGINT", onInt);
          process.on("SIGTERM", onTerm);
        });
      }),
    );
}
