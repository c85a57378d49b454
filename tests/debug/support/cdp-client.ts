// A minimal Chrome DevTools Protocol client over WebSocket (RFC 6455 text frames), enough to drive node's
// inspector from a test the way a debugger does: node 20 has no WebSocket client of its own.

import { randomBytes } from "node:crypto";
import { request } from "node:http";
import type { Socket } from "node:net";

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
}

export class CdpClient {
  private nextId = 1;
  private buffered = Buffer.alloc(0);
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((e: CdpEvent) => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
  }

  static connect(url: string): Promise<CdpClient> {
    const { hostname, port, pathname } = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request({
        host: hostname,
        port,
        path: pathname,
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64") },
      });
      req.on("upgrade", (_res, socket) => resolve(new CdpClient(socket)));
      req.on("response", (res) => reject(new Error(`no WebSocket upgrade: HTTP ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
  }

  onEvent(listener: (e: CdpEvent) => void): void {
    this.listeners.push(listener);
  }

  send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params }));
    const mask = randomBytes(4);
    const length = payload.length;
    const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : length < 65536 ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]) : null;
    if (header === null) throw new Error("message too long for this client");
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    this.socket.write(Buffer.concat([header, mask, masked]));
    return new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject }));
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      if (this.buffered.length < 2) return;
      let length = this.buffered[1] & 0x7f;
      let start = 2;
      if (length === 126) {
        if (this.buffered.length < 4) return;
        length = this.buffered.readUInt16BE(2);
        start = 4;
      } else if (length === 127) {
        if (this.buffered.length < 10) return;
        length = Number(this.buffered.readBigUInt64BE(2));
        start = 10;
      }
      if (this.buffered.length < start + length) return;
      const opcode = this.buffered[0] & 0x0f;
      const text = this.buffered.subarray(start, start + length).toString("utf8");
      this.buffered = this.buffered.subarray(start + length);
      if (opcode !== 1) continue; // node's inspector sends whole text frames
      const message = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown> };
      if (message.id !== undefined) {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.method) {
        for (const l of this.listeners) l({ method: message.method, params: message.params ?? {} });
      }
    }
  }
}
