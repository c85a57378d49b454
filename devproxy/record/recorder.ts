// `run --record FILE`, where the filter chain runs: each exchange captured (capture.ts) and handed,
// as plain JSON, to a sink: the recording file in this thread (file.ts), or a message to the thread
// that writes it when the chain runs in a worker.

import type { Plugin } from "../../host/index.js";
import type { RecordedExchange } from "../../host/recording.js";
import type { CalloutAnswer } from "../callouts.js";
import { CalloutAnswers } from "./callout-answers.js";
import { ExchangeCapture } from "./capture.js";

/** Where a finished exchange goes; its `exchange` number is given by whoever writes the file. */
export type RecordSink = (record: RecordedExchange) => void;

export class Recorder {
  private readonly answers: CalloutAnswers;

  constructor(
    private readonly limit: number,
    private readonly sink: RecordSink,
  ) {
    this.answers = new CalloutAnswers(limit);
  }

  /** A plugin's callout was answered (FilterSet's hook): kept until its exchange is recorded. */
  calloutAnswered(plugin: Plugin, token: number, answer: CalloutAnswer): void {
    this.answers.answered(plugin, token, answer);
  }

  begin(plugins: Plugin[], connection: { source: string; destination: string }): ExchangeCapture {
    return new ExchangeCapture(this.limit, plugins, this.answers, connection);
  }

  /** The exchange ended: its record goes to the sink. */
  record(record: RecordedExchange): void {
    this.sink(record);
  }
}
