// What the dev proxy prints: one block per request with the filters' logs, plugin logs as they
// happen, reloads and errors. Colour only on a terminal and without NO_COLOR; --json prints one
// JSON object per line instead.

import type { Writable } from "node:stream";

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
type Style = keyof typeof CODES;

export function colourEnabled(stream: Writable & { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && process.env.TERM !== "dumb";
}

export function painter(enabled: boolean): (style: Style, text: string) => string {
  return (style, text) => (enabled ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text);
}

const LEVEL_STYLE: Record<string, Style> = {
  trace: "gray",
  debug: "gray",
  info: "blue",
  warn: "yellow",
  error: "red",
  critical: "magenta",
};

export interface LogLine {
  filter: string;
  level: string;
  message: string;
}

export interface RequestLog {
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  endedBy: { filter: string; how: string } | null;
  filters: { name: string; phases: { phase: string; result?: string; endOfStream?: boolean }[] }[];
  logs: LogLine[];
  error?: string;
}

/**
 * Which requests get a log line: "all"; "sampled", at most one line a second, saying how many
 * were left out since the last (the first request always shows); "off".
 */
export type RequestLogging = "all" | "sampled" | "off";

/** The default: every request on a terminal or with --json; sampled into a pipe or a file. */
export function defaultRequestLogging(out: { isTTY?: boolean }, json: boolean): RequestLogging {
  return json || out.isTTY === true ? "all" : "sampled";
}

const SAMPLE_EVERY_MS = 1000;

export class Logger {
  private readonly paint: ReturnType<typeof painter>;
  private readonly tag: string;
  private sampledAt = -Infinity;
  private unsampled = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly json: boolean,
    private readonly verbose: boolean,
    private readonly options: { requests?: RequestLogging; worker?: number } = {},
  ) {
    this.paint = painter(colourEnabled(out));
    this.tag = options.worker === undefined ? "" : ` ${this.paint("dim", `w${options.worker}`)}`;
  }

  /** Whether a finished request gets its log line; counts the ones left out. */
  wantsRequest(): boolean {
    const mode = this.options.requests ?? "all";
    if (mode === "all") return true;
    if (mode === "off") return false;
    const now = performance.now();
    if (now - this.sampledAt < SAMPLE_EVERY_MS) {
      this.unsampled++;
      return false;
    }
    this.sampledAt = now;
    return true;
  }

  event(event: string, data: Record<string, unknown>, text: string, style?: Style): void {
    if (this.json) this.write(JSON.stringify(this.options.worker === undefined ? { event, ...data } : { event, worker: this.options.worker, ...data }));
    else this.write(style ? this.paint(style, text) : text);
  }

  info(text: string, data: Record<string, unknown> = {}): void {
    this.event("info", { message: text, ...data }, text);
  }

  /** An error the proxy itself reports (reload refused, upstream unreachable, ...). */
  error(text: string, data: Record<string, unknown> = {}): void {
    this.event("error", { message: text, ...data }, `${this.time()} ${this.paint("red", "error")} ${text}`);
  }

  warn(text: string, data: Record<string, unknown> = {}): void {
    this.event("warn", { message: text, ...data }, `${this.time()} ${this.paint("yellow", "warn ")} ${text}`);
  }

  /** Logs of a plugin outside any request (start, ticks, callout answers, queues). */
  pluginLogs(lines: LogLine[]): void {
    for (const line of lines) {
      this.event("log", { ...line }, `${this.time()} ${this.level(line.level)} ${this.paint("cyan", line.filter)}: ${line.message}`);
    }
  }

  /** A request's line (see wantsRequest); with sampling, how many were left out before it. */
  request(r: RequestLog): void {
    const skipped = this.unsampled;
    this.unsampled = 0;
    if (this.json) {
      const tags = { ...(this.options.worker === undefined ? {} : { worker: this.options.worker }), ...(skipped ? { notShown: skipped } : {}) };
      this.write(JSON.stringify({ event: "request", ...tags, ...r }));
      return;
    }
    const status = r.status === null ? this.paint("red", "---") : this.paint(statusStyle(r.status), String(r.status));
    let line = `${this.time()} ${this.paint("bold", r.method)} ${r.path} ${this.paint("dim", "→")} ${status} ${this.paint("dim", `${r.durationMs} ms`)}`;
    if (r.endedBy) line += this.paint("dim", ` (${describeEnd(r.endedBy.how)} by ${r.endedBy.filter})`);
    if (r.error) line += ` ${this.paint("red", r.error)}`;
    if (skipped) line += this.paint("dim", ` (+${skipped} requests not shown)`);
    const lines = [line];
    if (this.verbose) {
      for (const f of r.filters) {
        const phases = f.phases
          .filter((p) => p.result !== undefined)
          .map((p) => `${p.phase}${p.endOfStream ? "(eos)" : ""}=${p.result}`)
          .join(" ");
        lines.push(`    ${this.paint("cyan", f.name)} ${this.paint("dim", phases || "(no callbacks)")}`);
      }
    }
    for (const l of r.logs) lines.push(`    ${this.level(l.level)} ${this.paint("cyan", l.filter)}: ${l.message}`);
    this.write(lines.join("\n"));
  }

  private level(level: string): string {
    return this.paint(LEVEL_STYLE[level] ?? "gray", level.padEnd(5));
  }

  private time(): string {
    return this.paint("dim", new Date().toTimeString().slice(0, 8)) + this.tag;
  }

  private write(text: string): void {
    this.out.write(`${text}\n`);
  }
}

function statusStyle(status: number): Style {
  if (status >= 500) return "red";
  if (status >= 400) return "yellow";
  if (status >= 300) return "cyan";
  return "green";
}

function describeEnd(how: string): string {
  return { local_response: "local reply", vm_failed: "VM failed, 503", reset: "reset" }[how] ?? how;
}
