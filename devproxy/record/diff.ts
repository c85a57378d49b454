// What changed between a recorded exchange and its replay, as readable lines: the status, the
// response headers, body and trailers the client got, each filter's local reply, and what went
// to the upstream. Bodies the recording cut at the buffer limit are compared on the bytes kept.

import type { Header } from "../../host/index.js";
import { decodeBody, type RecordedBody, type RecordedExchange, type RecordedLocalReply, type RecordedMessage } from "../../host/recording.js";
import { headerChanges } from "./capture.js";
import type { ReplayedExchange } from "./replay.js";

const status = (m: RecordedMessage | null) => m?.headers.find(([k]) => k === ":status")?.[1] ?? null;
/** Values as JSON strings, each cut at 120 characters (a header can be 60 KiB). */
const quote = (values: string[]) => (values.length === 0 ? "(none)" : values.map((v) => JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)).join(", "));

function headerLines(what: string, before: Header[], after: Header[]): string[] {
  return headerChanges(
    before.filter(([k]) => k !== ":status"),
    after.filter(([k]) => k !== ":status"),
  ).map((c) => `${what} ${c.name}: ${quote(c.before)} → ${quote(c.after)}`);
}

/** A few characters either side of `at`, as a JSON string. */
function around(bytes: Uint8Array, at: number): string {
  const text = Buffer.from(bytes.subarray(Math.max(0, at - 16), at + 24)).toString("utf8");
  return JSON.stringify(text);
}

/** `prefixOnly`: what was fed in was cut, so only the bytes both kept can be compared, not the sizes. */
function bodyLine(what: string, before: RecordedBody, after: RecordedBody, prefixOnly = false): string | null {
  const a = decodeBody(before);
  const b = decodeBody(after);
  const sizeA = before.size ?? a.length;
  const sizeB = after.size ?? b.length;
  const kept = Math.min(a.length, b.length);
  let at = -1;
  for (let i = 0; i < kept; i++) {
    if (a[i] !== b[i]) {
      at = i;
      break;
    }
  }
  // Past the bytes both kept (a recording keeps up to the buffer limit), only the sizes can be compared.
  if (at < 0 && (sizeA === sizeB || prefixOnly)) return null;
  if (at < 0) at = kept;
  return `${what}: ${sizeA} bytes → ${sizeB} bytes, first difference at byte ${at}: ${around(a, at)} → ${around(b, at)}`;
}

function localReplyText(l: RecordedLocalReply | null): string {
  if (!l) return "(none)";
  const body = Buffer.from(decodeBody(l.body)).toString("utf8");
  return `${l.status} ${JSON.stringify(body.length > 60 ? `${body.slice(0, 60)}…` : body)}${l.details ? ` (${l.details})` : ""}`;
}

function sameLocalReply(a: RecordedLocalReply | null, b: RecordedLocalReply | null): boolean {
  if (!a || !b) return a === b;
  return a.status === b.status && a.details === b.details && headerChanges(a.headers, b.headers).length === 0 && bodyLine("", a.body, b.body) === null;
}

function messageLines(what: string, before: RecordedMessage | null, after: RecordedMessage | null, absent: string, prefixOnly: boolean): string[] {
  if (!before && !after) return [];
  if (!before || !after) return [`${what}: ${before ? "sent" : absent} → ${after ? "sent" : absent}`];
  const lines = headerLines(`${what} header`, before.headers, after.headers);
  const body = bodyLine(`${what} body`, before.body, after.body, prefixOnly);
  if (body) lines.push(body);
  if ((before.trailers === null) !== (after.trailers === null)) lines.push(`${what} trailers: ${before.trailers ? "sent" : "(none)"} → ${after.trailers ? "sent" : "(none)"}`);
  else if (before.trailers && after.trailers) lines.push(...headerLines(`${what} trailer`, before.trailers, after.trailers));
  return lines;
}

/** Every difference between the recording and the replay, one line each; empty when nothing changed. */
export function differences(recorded: RecordedExchange, { record: replayed, inputCut }: ReplayedExchange): string[] {
  const lines: string[] = [];
  const was = status(recorded.response);
  const now = status(replayed.response);
  if (was !== now) lines.push(`status: ${was ?? "(no response)"} → ${now ?? "(no response)"}`);
  if (recorded.response && replayed.response) lines.push(...messageLines("response", recorded.response, replayed.response, "(none)", inputCut));
  recorded.filters.forEach((f, k) => {
    const after = replayed.filters[k]?.localReply ?? null;
    if (!sameLocalReply(f.localReply, after)) lines.push(`local reply from ${f.name}: ${localReplyText(f.localReply)} → ${localReplyText(after)}`);
  });
  const resetBy = (e: RecordedExchange) => (e.endedBy?.how === "reset" ? e.endedBy.filter : null);
  if (resetBy(recorded) !== resetBy(replayed)) {
    const by = (f: string | null) => (f ? `by ${f}` : "(none)");
    lines.push(`stream reset: ${by(resetBy(recorded))} → ${by(resetBy(replayed))}`);
  }
  lines.push(...messageLines("upstream request", recorded.upstream?.request ?? null, replayed.upstream?.request ?? null, "not sent", inputCut));
  return lines;
}
