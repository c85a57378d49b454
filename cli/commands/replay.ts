// `proxy-wasm-as replay FILE PLUGIN.wasm...`: re-runs the exchanges `run --record FILE` recorded
// through new builds of the same chain on the Node host (no sockets), answering the upstream and
// the callouts as the recording says they answered, and prints what changed per exchange.
// Exit codes: 0 nothing changed, 1 something did, 2 the recording cannot be read or replayed.
// `--accept` rewrites FILE with what the new builds do (after a fix), so later replays expect it.

import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { ChainFilter } from "../../devproxy/exchange.js";
import { differences } from "../../devproxy/record/diff.js";
import { replayExchange, startChain, type ReplayedExchange } from "../../devproxy/record/replay.js";
import { readRecording, RecordingError, type RecordedExchange, type RecordingHeader } from "../../host/recording.js";

interface ReplayOptions {
  json?: boolean;
  accept?: boolean;
}

class CannotReplay extends Error {}

/** --accept: the new recording is written beside FILE and moved over it only once every exchange replayed. */
class Rewrite {
  private readonly temp: string;
  private fd: number;

  constructor(private readonly file: string) {
    this.temp = `${file}.accept-${process.pid}`;
    this.fd = openSync(this.temp, "w");
  }
  line(value: unknown): void {
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
  }
  commit(): void {
    closeSync(this.fd);
    renameSync(this.temp, this.file);
  }
  abandon(): void {
    closeSync(this.fd);
    rmSync(this.temp, { force: true });
  }
}

function loadPlugins(file: string, h: RecordingHeader, plugins: string[]): Buffer[] {
  if (plugins.length !== h.filters.length) {
    throw new CannotReplay(`${file} records a chain of ${h.filters.length} filter(s) (${h.filters.map((f) => f.name).join(", ")}); give one .wasm for each, in order (${plugins.length} given)`);
  }
  return plugins.map((p) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new CannotReplay(`${p}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "not found (build it first: npx proxy-wasm-as build)" : (e as Error).message}`);
    }
  });
}

function report(recorded: RecordedExchange, replayed: ReplayedExchange, changes: string[], json: boolean): string[] {
  const pseudo = (k: string) => recorded.request.headers.find(([n]) => n === k)?.[1] ?? "";
  if (json) return [JSON.stringify({ exchange: recorded.exchange, method: pseudo(":method"), path: pseudo(":path"), changes, notes: replayed.notes })];
  const title = `#${recorded.exchange} ${pseudo(":method")} ${pseudo(":path")}`;
  return [
    changes.length === 0 ? `${title}: no changes` : `${title}: ${changes.length} change${changes.length === 1 ? "" : "s"}`,
    ...changes.map((c) => `  ${c}`),
    ...replayed.notes.map((n) => `  note: ${n}`),
  ];
}

/** Control characters from a recording (a method, a path, a header name) are shown escaped, never sent to the terminal. */
const printable = (line: string) => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

function replay(file: string, plugins: string[], o: ReplayOptions): number {
  const out = (line: string) => process.stdout.write(`${printable(line)}\n`);
  let chain: ChainFilter[] = [];
  let limit = 0;
  let rewrite: Rewrite | null = null;
  const counts = { exchanges: 0, changed: 0 };
  try {
    readRecording(
      file,
      (h) => {
        const wasm = loadPlugins(file, h, plugins);
        try {
          chain = startChain(h, wasm.map((bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)), plugins);
        } catch (e) {
          throw new CannotReplay((e as Error).message);
        }
        limit = h.bufferLimitBytes;
        if (o.accept) {
          rewrite = new Rewrite(file);
          rewrite.line({ ...h, filters: h.filters.map((f, i) => ({ ...f, path: resolve(plugins[i]), sha256: createHash("sha256").update(wasm[i]).digest("hex") })) });
        }
        if (!o.json) out(`replaying ${file} through ${h.filters.map((f, i) => `${f.name} (${plugins[i]})`).join(" → ")}`);
      },
      (recorded, line) => {
        let replayed: ReplayedExchange;
        try {
          replayed = replayExchange(chain, recorded, limit);
        } catch (e) {
          throw new CannotReplay(`${file} line ${line}: the exchange cannot be replayed: ${(e as Error).message}`);
        }
        const changes = differences(recorded, replayed);
        rewrite?.line(replayed.record);
        counts.exchanges++;
        if (changes.length > 0) counts.changed++;
        report(recorded, replayed, changes, o.json === true).forEach(out);
      },
    );
  } catch (e) {
    (rewrite as Rewrite | null)?.abandon();
    throw e;
  } finally {
    for (const c of chain) c.plugin.shutdown();
  }
  (rewrite as Rewrite | null)?.commit();
  const replayed = `${counts.exchanges} exchange${counts.exchanges === 1 ? "" : "s"} replayed`;
  if (o.json) out(JSON.stringify({ event: "summary", exchanges: counts.exchanges, changed: counts.changed }));
  else out(counts.changed === 0 ? `${replayed}: no changes` : `${replayed}: ${counts.changed} changed, ${counts.exchanges - counts.changed} unchanged`);
  if (o.accept) {
    if (!o.json) out(`${file} now holds what these builds do: later replays compare against it`);
    return 0;
  }
  return counts.changed > 0 ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command("replay")
    .description("re-run the exchanges recorded with `run --record FILE` through new builds on the Node host and print what changed (exit 0: nothing, 1: a difference, 2: a bad recording)")
    .argument("<file>", "a recording made by `proxy-wasm-as run --record FILE`")
    .argument("<plugins...>", "the filters' .wasm files, one for each recorded filter, in chain order")
    .option("--json", "print one JSON object per exchange ({exchange, method, path, changes, notes}) and a summary")
    .option("--accept", "after a fix: rewrite FILE with what these builds do (same requests and upstream answers), so later replays expect it; exit 0")
    // A usage error must not read as "something changed" (1) in CI.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((file: string, plugins: string[], o: ReplayOptions) => {
      try {
        process.exitCode = replay(file, plugins, o);
      } catch (e) {
        const known = e instanceof RecordingError || e instanceof CannotReplay;
        const reason = e instanceof Error ? e.message : String(e);
        process.stderr.write(`proxy-wasm-as replay: ${known ? "" : "failed: "}${printable(reason.split("\n")[0])}\n`);
        process.exitCode = 2;
      }
    });
}
