// `proxy-wasm-as replay FILE PLUGIN.wasm...`: re-runs the exchanges `run --record FILE` recorded
// through new builds of the same chain on the Node host (no sockets), answering the upstream and
// the callouts as the recording says they answered, and prints what changed per exchange.
// Exit codes: 0 nothing changed, 1 something did, 2 the recording cannot be read or replayed.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { differences } from "../../devproxy/record/diff.js";
import { replayExchange, startChain } from "../../devproxy/record/replay.js";
import type { ChainFilter } from "../../devproxy/exchange.js";
import { readRecording, RecordingError, type RecordingHeader } from "../../host/recording.js";

interface ReplayOptions {
  json?: boolean;
}

class CannotReplay extends Error {}

function replay(file: string, plugins: string[], o: ReplayOptions): number {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let chain: ChainFilter[] = [];
  let header: RecordingHeader | null = null;
  const counts = { exchanges: 0, changed: 0 };
  readRecording(
    file,
    (h) => {
      header = h;
      if (plugins.length !== h.filters.length) {
        throw new CannotReplay(`${file} records a chain of ${h.filters.length} filter(s) (${h.filters.map((f) => f.name).join(", ")}); give one .wasm for each, in order (${plugins.length} given)`);
      }
      const wasm = plugins.map((p) => {
        try {
          return readFileSync(p);
        } catch (e) {
          throw new CannotReplay(`${p}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "not found (build it first: npx proxy-wasm-as build)" : (e as Error).message}`);
        }
      });
      try {
        chain = startChain(h, wasm.map((bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
      } catch (e) {
        throw new CannotReplay((e as Error).message);
      }
      if (!o.json) out(`replaying ${file} through ${h.filters.map((f, i) => `${f.name} (${plugins[i]})`).join(" → ")}`);
    },
    (recorded, line) => {
      let replayed;
      try {
        replayed = replayExchange(chain, recorded, header!.bufferLimitBytes);
      } catch (e) {
        throw new CannotReplay(`${file} line ${line}: the exchange cannot be replayed: ${(e as Error).message}`);
      }
      const changes = differences(recorded, replayed);
      counts.exchanges++;
      if (changes.length > 0) counts.changed++;
      const pseudo = (k: string) => recorded.request.headers.find(([n]) => n === k)?.[1] ?? "";
      if (o.json) {
        out(JSON.stringify({ exchange: recorded.exchange, method: pseudo(":method"), path: pseudo(":path"), changes, notes: replayed.notes }));
        return;
      }
      const title = `#${recorded.exchange} ${pseudo(":method")} ${pseudo(":path")}`;
      out(changes.length === 0 ? `${title}: no changes` : `${title}: ${changes.length} change${changes.length === 1 ? "" : "s"}`);
      for (const c of changes) out(`  ${c}`);
      for (const n of replayed.notes) out(`  note: ${n}`);
    },
  );
  const replayed = `${counts.exchanges} exchange${counts.exchanges === 1 ? "" : "s"} replayed`;
  const summary = counts.changed === 0 ? `${replayed}: no changes` : `${replayed}: ${counts.changed} changed, ${counts.exchanges - counts.changed} unchanged`;
  if (o.json) out(JSON.stringify({ event: "summary", exchanges: counts.exchanges, changed: counts.changed }));
  else out(summary);
  for (const c of chain) c.plugin.shutdown();
  return counts.changed > 0 ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command("replay")
    .description("re-run the exchanges recorded with `run --record FILE` through new builds on the Node host and print what changed (exit 0: nothing, 1: a difference, 2: a bad recording)")
    .argument("<file>", "a recording made by `proxy-wasm-as run --record FILE`")
    .argument("<plugins...>", "the filters' .wasm files, one for each recorded filter, in chain order")
    .option("--json", "print one JSON object per exchange ({exchange, method, path, changes, notes}) and a summary")
    .action((file: string, plugins: string[], o: ReplayOptions) => {
      try {
        process.exitCode = replay(file, plugins, o);
      } catch (e) {
        const known = e instanceof RecordingError || e instanceof CannotReplay;
        const reason = e instanceof Error ? e.message : String(e);
        process.stderr.write(`proxy-wasm-as replay: ${known ? "" : "failed: "}${reason.split("\n")[0]}\n`);
        process.exitCode = 2;
      }
    });
}
