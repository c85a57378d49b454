// Starts `proxy-wasm-as run` as a child process on free ports (--port 0 --admin-port 0 --json),
// waits for its "listening" line and collects the JSON events it prints.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export const cliMain = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

export interface RunningProxy {
  url: string;
  admin: string;
  events: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the first event matching, waiting up to `ms`. */
  waitFor(match: (e: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
  child: ChildProcessWithoutNullStreams;
}

export async function startProxy(args: string[], timeoutMs = 20_000): Promise<RunningProxy> {
  const child = spawn(process.execPath, [cliMain, "run", "--port", "0", "--admin-port", "0", "--json", ...args], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  const events: Record<string, unknown>[] = [];
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let stderr = "";
  let buffered = "";
  let exitCode: number | null | undefined;
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      events.push(event);
      for (const w of [...waiters]) {
        if (w.match(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve((exitCode = code))));
  const waitFor = (match: (e: Record<string, unknown>) => boolean, ms = timeoutMs) => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify(events)} stderr: ${stderr}`)), ms);
      waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void exited.then(() => (clearTimeout(timer), reject(new Error(`proxy exited (${exitCode}): ${stderr}`))));
    });
  };
  const listening = await waitFor((e) => e.event === "listening");
  return {
    url: listening.url as string,
    admin: listening.admin as string,
    events,
    stderr: () => stderr,
    waitFor,
    child,
    stop: async () => {
      if (exitCode === undefined) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion (for failures that exit). */
export function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliMain, ...args], { env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
