// The recording file of `run --record FILE`, written by the one thread that owns it: the header
// line (format, version, filters), then one line per exchange as each one ends, numbered in the
// order they end. Nothing is held once written. Headers are recorded as received, credentials
// included: it is the user's own traffic, on the user's disk (run --help says so).

import { closeSync, openSync, writeSync } from "node:fs";
import { encodeBody, MAX_LINE_BYTES, RECORDING_FORMAT, RECORDING_VERSION, type RecordedExchange, type RecordingHeader } from "../../host/recording.js";
import type { FilterSet } from "../filters.js";
import type { Logger } from "../log.js";

export interface RecordedFilterInfo {
  name: string;
  path: string;
  sha256: string;
  configuration?: string | Uint8Array;
  rootId?: string;
  vmId?: string;
}

export class RecordingFile {
  private fd: number | null = null;
  private count = 0;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Creates (or truncates) the file and writes the header line; throws with the reason if it cannot. */
  open(filters: RecordedFilterInfo[], clusters: string[], bufferLimitBytes: number): void {
    const header: RecordingHeader = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      startedAt: new Date().toISOString(),
      bufferLimitBytes,
      filters: filters.map((f) => ({
        name: f.name,
        path: f.path,
        sha256: f.sha256,
        configuration: f.configuration === undefined ? null : encodeBody([typeof f.configuration === "string" ? Buffer.from(f.configuration, "utf8") : f.configuration], Infinity),
        rootId: f.rootId ?? null,
        vmId: f.vmId ?? null,
      })),
      clusters,
    };
    try {
      this.fd = openSync(this.path, "w");
    } catch (e) {
      throw new Error(`--record ${this.path}: ${(e as Error).message}`);
    }
    this.line(JSON.stringify(header));
  }

  /** Appends one exchange, numbered in the order exchanges end. */
  append(record: RecordedExchange): void {
    if (this.fd === null) return;
    record.exchange = ++this.count;
    const text = JSON.stringify(record);
    // A character is at most 4 bytes: count the bytes only when it could matter.
    if (text.length > MAX_LINE_BYTES / 4 && Buffer.byteLength(text) > MAX_LINE_BYTES) {
      this.log.warn(`--record ${this.path}: exchange #${record.exchange} not recorded: its record is larger than ${MAX_LINE_BYTES} bytes, the most replay reads`);
      return;
    }
    this.line(text);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private line(text: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, `${text}\n`);
    } catch (e) {
      // A full disk must not take the proxy down: stop recording and say so once.
      this.log.error(`--record ${this.path}: writing failed (${(e as Error).message}); recording stopped`);
      this.close();
    }
  }
}

/** The filters as the recording's header names them. */
export function recordedFilters(filters: FilterSet): RecordedFilterInfo[] {
  return filters.slots.map((s) => ({
    name: s.name,
    path: s.path,
    sha256: s.current.bytesHash,
    configuration: s.spec.configuration,
    rootId: s.spec.rootId,
    vmId: s.spec.vmId,
  }));
}
