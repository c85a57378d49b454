// Writing what the first filter passes on back to the client, as Envoy's HTTP/1 codec would:
// the content-length the chain ends with goes out as is; without one, the length is set when the
// whole body is already known, else the body is chunked.

import type http from "node:http";
import type { Header } from "../host/index.js";
import { HOP_BY_HOP, noBodyStatus } from "./headers.js";

export class ClientReply {
  status: number | null = null;
  started = false;
  private declared: number | null = null;
  private written = 0;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly method: string,
    /** The reply is over (sent, or the connection was cut with `error`). */
    private readonly done: (error?: string) => void,
  ) {}

  headers(headers: Header[], eos: boolean, knownLength: number | null): void {
    this.started = true;
    const status = Number(headers.find(([k]) => k === ":status")?.[1] ?? 502);
    this.status = status;
    const out: string[] = [];
    for (const [k, v] of headers) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
      out.push(k, v);
    }
    const declaredText = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
    if (declaredText !== undefined && /^\d+$/.test(declaredText)) this.declared = Number(declaredText);
    else if (knownLength !== null && !noBodyStatus(status) && this.method !== "HEAD") this.declared = knownLength;
    if (this.declared !== null && !noBodyStatus(status)) out.push("content-length", String(this.declared));
    if (this.method === "HEAD") this.declared = null;
    this.res.writeHead(status, out);
    if (eos) this.end();
  }

  body(chunk: Uint8Array, eos: boolean): void {
    if (chunk.length > 0 && this.method !== "HEAD" && !noBodyStatus(this.status ?? 200)) {
      this.written += chunk.length;
      if (this.declared !== null && this.written > this.declared) return this.lengthMismatch();
      this.res.write(chunk);
    }
    if (eos) this.end();
  }

  trailers(trailers: Header[]): void {
    if (trailers.length > 0 && this.declared === null) this.res.addTrailers(Object.fromEntries(trailers));
    this.end();
  }

  /** Cuts the connection (a reset: the client sees the response end early). */
  reset(error: string): void {
    this.res.destroy();
    this.done(error);
  }

  private end(): void {
    if (this.declared !== null && this.written !== this.declared && this.method !== "HEAD") return this.lengthMismatch();
    this.res.end();
    this.done();
  }

  private lengthMismatch(): void {
    this.reset(
      `a filter changed the response body to ${this.written}+ bytes but content-length says ${this.declared}: remove or update content-length when rewriting a body (Envoy would send a broken response too)`,
    );
  }
}
