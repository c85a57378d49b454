// Writing what the first filter passes on back to the client, as Envoy's HTTP/1 codec would:
// the content-length the chain ends with goes out as is; without one, the length is set when the
// whole body is already known, else the body is chunked. A response HTTP/1.1 cannot carry (a
// :status that is not a number or is outside 100-999, a header name or value a filter broke) is
// answered 502 with the reason, as Envoy's filter manager does for a missing :status.

import type http from "node:http";
import type { Header } from "../host/index.js";
import { HOP_BY_HOP, invalidHeader, noBodyStatus } from "./headers.js";

/** Who hears of the reply: the request it answers. */
export interface ReplyOwner {
  /** The reply is over (sent, or the connection was cut), with what went wrong if anything. */
  replied(error?: string): void;
  /** The client is slow (its socket buffer is full) or takes more again. */
  clientBusy(busy: boolean): void;
}

export class ClientReply {
  status: number | null = null;
  started = false;
  private declared: number | null = null;
  private written = 0;
  private over = false;
  private drainHeard = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly method: string,
    private readonly owner: ReplyOwner,
  ) {}

  headers(headers: Header[], eos: boolean, knownLength: number | null): void {
    if (this.over) return;
    this.started = true;
    let statusText: string | undefined;
    let declaredText: string | undefined;
    const out: string[] = [];
    for (const [k, v] of headers) {
      if (k.startsWith(":")) {
        if (k === ":status") statusText ??= v;
        continue;
      }
      const name = k.toLowerCase();
      if (name === "content-length") declaredText ??= v;
      if (!HOP_BY_HOP.has(name)) out.push(k, v);
    }
    const problem = statusProblem(statusText);
    if (problem) return this.badGateway(problem);
    const status = Number(statusText);
    this.status = status;
    if (noBodyStatus(status) || this.method === "HEAD") {
      // No body follows: a 304 or HEAD keeps its content-length (the representation's), a 204 or
      // 1xx must not carry one (RFC 9110 8.6).
      if (declaredText !== undefined && (status === 304 || this.method === "HEAD")) out.push("content-length", declaredText);
    } else {
      if (declaredText !== undefined && /^\d+$/.test(declaredText)) this.declared = Number(declaredText);
      else if (knownLength !== null) this.declared = knownLength;
      if (this.declared !== null) out.push("content-length", String(this.declared));
    }
    // Node's writer checks every name and value as Envoy's HTTP/1 codec would; Envoy's wording for the first it refuses.
    try {
      this.res.writeHead(status, out);
    } catch (e) {
      return this.badGateway(invalidHeader(headers) ?? (e as Error).message);
    }
    if (eos) this.end();
  }

  body(chunk: Uint8Array, eos: boolean): void {
    if (this.over) return;
    if (chunk.length > 0 && this.method !== "HEAD" && !noBodyStatus(this.status ?? 200)) {
      this.written += chunk.length;
      if (this.declared !== null && this.written > this.declared) return this.lengthMismatch();
      // The last chunk goes out with the end: one write of Node's instead of two.
      if (eos) return this.end(chunk);
      if (!this.res.write(chunk)) this.slow();
    }
    if (eos) this.end();
  }

  trailers(trailers: Header[]): void {
    if (this.over) return;
    if (trailers.length > 0 && this.declared === null && invalidHeader(trailers) === null) this.res.addTrailers(Object.fromEntries(trailers));
    this.end();
  }

  /** The client's socket buffer is full: listened for only then, most replies never fill it. */
  private slow(): void {
    if (!this.drainHeard) {
      this.drainHeard = true;
      this.res.on("drain", () => this.owner.clientBusy(false));
    }
    this.owner.clientBusy(true);
  }

  /** Cuts the connection (a reset: the client sees the response end early). */
  reset(error: string): void {
    if (this.over) return;
    this.over = true;
    this.res.destroy();
    this.owner.replied(error);
  }

  private end(last?: Uint8Array): void {
    if (this.declared !== null && this.written !== this.declared) return this.lengthMismatch();
    this.over = true;
    this.res.end(last);
    this.owner.replied();
  }

  /** The chain's response cannot go out: 502 with the reason, or a reset if headers went out. */
  private badGateway(reason: string): void {
    if (this.res.headersSent) return this.reset(reason);
    this.over = true;
    this.status = 502;
    const body = reason.split(" (")[0];
    this.res.writeHead(502, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
    this.res.end(body);
    this.owner.replied(reason);
  }

  private lengthMismatch(): void {
    this.reset(
      `a filter changed the response body to ${this.written}${this.written > (this.declared ?? 0) ? "+" : ""} bytes but content-length says ${this.declared}: remove or update content-length when rewriting a body (Envoy would send a broken response too)`,
    );
  }
}

/**
 * Why a :status cannot go out, or null. Envoy answers 502 "missing required header: :status" when
 * it is not a number (HeaderUtility::checkRequiredResponseHeaders); a number outside 100-999 it
 * writes as is, which no HTTP/1.1 client accepts, so the dev proxy answers 502 and says so.
 */
function statusProblem(text: string | undefined): string | null {
  if (text === undefined || !/^\d+$/.test(text)) {
    return `missing required header: :status (a filter set it to ${JSON.stringify(text ?? null)}; Envoy answers 502)`;
  }
  const status = Number(text);
  if (status < 100 || status > 999) {
    return `a filter set status ${text} (outside 100-999; Envoy would write it as is and HTTP/1.1 clients refuse it)`;
  }
  return null;
}
