// `run --record FILE`: the recording file, written by the thread that owns it, one line per
// exchange as each one ends (nothing is held once written). The first line names the format,
// its version and the filters. Headers are recorded as received, credentials included: it is the
// user's own traffic, on the user's disk (run --help says so).

import { closeSync, openSync, writeSync } from "node:fs";
import type { Plugin } from "../../host/index.js";
import { encodeBody, MAX_LINE_BYTES, RECORDING_FORMAT, RECORDING_VERSION, type RecordedExchange, type RecordingHeader } from "../../host/recording.js";
import type { CalloutAnswer } from "../callouts.js";
import type { FilterSet } from "../filters.js";
import type { Logger } from "../log.js";
import { CalloutAnswers } from "./callout-answers.js";
import { ExchangeCapture } from "./capture.js";

export interface RecordedFilterInfo {
  name: string;
  path: string;
  sha256: string;
  configuration?: string | Uint8Array;
  rootId?: string;
  vmId?: string;
}

export class Recorder {
  private readonly answers: CalloutAnswers;
  private fd: number | null = null;
  private count = 0;

  constructor(
    readonly path: string,
    private readonly limit: number,
    private readonly log: Logger,
  ) {
    this.answers = new CalloutAnswers(limit);
  }

  /** Creates (or truncates) the file and writes the header line; throws with the reason if it cannot. */
  open(filters: RecordedFilterInfo[], clusters: string[]): void {
    const header: RecordingHeader = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      startedAt: new Date().toISOString(),
      bufferLimitBytes: this.limit,
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
    this.text(JSON.stringify(header));
  }

  /** A plugin's callout was answered (FilterSet's hook): kept until its exchange is recorded. */
  calloutAnswered(plugin: Plugin, token: number, answer: CalloutAnswer): void {
    this.answers.answered(plugin, token, answer);
  }

  begin(plugins: Plugin[], connection: { source: string; destination: string }): ExchangeCapture {
    return new ExchangeCapture(this.limit, plugins, this.answers, connection);
  }

  /** Writes one exchange; `finish` gives it its number (exchanges are numbered as they end). */
  write(finish: (number: number) => RecordedExchange): void {
    if (this.fd === null) return;
    const record = finish(++this.count);
    const text = JSON.stringify(record);
    if (text.length > MAX_LINE_BYTES / 4) {
      // Each character is at most 4 bytes; the precise check only when it could matter.
      if (Buffer.byteLength(text) > MAX_LINE_BYTES) {
        this.log.warn(`--record ${this.path}: exchange #${record.exchange} not recorded: its record is larger than ${MAX_LINE_BYTES} bytes, the most replay reads`);
        return;
      }
    }
    this.text(text);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private text(line: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, `${line}\n`);
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
