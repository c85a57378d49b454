// `simulate`'s human-readable report, the default on a terminal: headers as `name: value` lines, each
// request's phases, the local reply, callouts and logs. Scripts get the JSON document (`--json`, or any
// stdout that is not a terminal). Text from the plugin is printed with control characters escaped, so a
// filter's output cannot drive the terminal.
import type { Header } from "../../host/index.js";

interface LogLine { level: string; message: string }
interface MessageLike { headers: Header[]; body: string; trailers?: Header[] }
interface RequestLike {
  /** The worker VM that served it (simulate --concurrency). */
  worker?: number;
  phases: { phase: string; endOfStream?: boolean; result?: string }[];
  upstreamRequest: MessageLike | null;
  downstreamResponse: MessageLike | null;
  localResponse: { status: number; body: string; headers: Header[]; details: string; grpcStatus: number | null } | null;
  stopped: string | null;
  logs: LogLine[];
  httpCalls: { upstream: string; headers: Header[]; body: string; timeoutMs: number }[];
}
export interface SimulateReport {
  start: { ok: boolean; error: string | null; logs: LogLine[] };
  ticks?: { ran: number; logs: LogLine[] };
  requests: RequestLike[];
  metrics: { name: string; type?: string; value: number | string }[];
  sharedData: Record<string, { value: string; cas: number }>;
}

/** How `simulate` prints: JSON when asked for, or when stdout is not a terminal (a pipe, a file: a script). */
export function simulateOutput(options: { json?: boolean }, stdoutIsTTY: boolean | undefined): "json" | "text" {
  return options.json === true || stdoutIsTTY !== true ? "json" : "text";
}

const BODY_LIMIT = 200;

/** Control characters (and DEL) as \xNN: the text stays on its line and sends no escape sequence. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function body(text: string): string {
  const shown = text.length > BODY_LIMIT ? `${text.slice(0, BODY_LIMIT)}… (${text.length} characters)` : text;
  return printable(shown);
}

function headerLines(headers: Header[], indent: string): string[] {
  return headers.map(([name, value]) => `${indent}${printable(String(name))}: ${printable(String(value))}`);
}

function messageLines(title: string, message: MessageLike | null, indent: string): string[] {
  if (!message) return [`${indent}${title}: none`];
  const lines = [`${indent}${title}:`, ...headerLines(message.headers, `${indent}  `)];
  if (message.body.length > 0) lines.push(`${indent}  body: ${body(message.body)}`);
  if (message.trailers && message.trailers.length > 0) lines.push(`${indent}  trailers:`, ...headerLines(message.trailers, `${indent}    `));
  return lines;
}

function logLines(logs: LogLine[], indent: string): string[] {
  return logs.map((entry) => `${indent}[${entry.level}] ${printable(entry.message)}`);
}

function requestLines(request: RequestLike, index: number): string[] {
  const outcome = request.localResponse
    ? `answered by the plugin with ${request.localResponse.status}`
    : request.stopped
      ? `stopped: ${request.stopped}`
      : "passed through";
  const worker = request.worker === undefined ? "" : ` (worker ${request.worker})`;
  const lines = [`request ${index + 1}${worker}: ${outcome}`, "  phases:"];
  for (const phase of request.phases) {
    const end = phase.endOfStream === undefined ? "" : phase.endOfStream ? " (end of stream)" : "";
    lines.push(`    ${phase.phase}${end}${phase.result ? ` → ${phase.result}` : ""}`);
  }
  const local = request.localResponse;
  if (local) {
    lines.push(`  local reply: ${local.status}${local.details ? ` (${printable(local.details)})` : ""}`);
    lines.push(...headerLines(local.headers, "    "));
    if (local.grpcStatus !== null) lines.push(`    grpc-status: ${local.grpcStatus}`);
    if (local.body.length > 0) lines.push(`    body: ${body(local.body)}`);
  }
  for (const call of request.httpCalls) {
    lines.push(`  callout to ${printable(call.upstream)} (timeout ${call.timeoutMs} ms):`, ...headerLines(call.headers, "    "));
    if (call.body.length > 0) lines.push(`    body: ${body(call.body)}`);
  }
  lines.push(...messageLines("upstream request", request.upstreamRequest, "  "));
  lines.push(...messageLines("downstream response", request.downstreamResponse, "  "));
  if (request.logs.length > 0) lines.push("  logs:", ...logLines(request.logs, "    "));
  return lines;
}

export function formatSimulateReport(report: SimulateReport): string {
  const start = report.start;
  const lines = [start.ok ? "start: ok" : `start: failed: ${printable(start.error ?? "unknown reason")}`, ...logLines(start.logs, "  ")];
  if (report.ticks) lines.push(`ticks: ${report.ticks.ran} ran`, ...logLines(report.ticks.logs, "  "));
  report.requests.forEach((request, i) => lines.push("", ...requestLines(request, i)));
  if (report.metrics.length > 0) {
    lines.push("", "metrics:", ...report.metrics.map((m) => `  ${printable(m.name)}${m.type ? ` (${m.type})` : ""}: ${m.value}`));
  }
  const shared = Object.entries(report.sharedData);
  if (shared.length > 0) lines.push("", "shared data:", ...shared.map(([key, v]) => `  ${printable(key)}: ${body(v.value)} (cas ${v.cas})`));
  return `${lines.join("\n")}\n`;
}
