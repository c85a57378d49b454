// The answers the dev proxy delivered to each plugin's callouts, kept until the exchange that made
// the call is recorded (it looks them up by token). Bounded: a call made outside any exchange (from
// a tick) is never looked up, so only the latest answers per plugin are kept.

import type { Plugin } from "../../host/index.js";
import { encodeBody, type RecordedCalloutAnswer } from "../../host/recording.js";
import type { CalloutAnswer } from "../callouts.js";

const KEPT_PER_PLUGIN = 256;

export class CalloutAnswers {
  private readonly byPlugin = new WeakMap<Plugin, Map<number, RecordedCalloutAnswer>>();

  constructor(private readonly limit: number) {}

  answered(plugin: Plugin, token: number, answer: CalloutAnswer): void {
    let m = this.byPlugin.get(plugin);
    if (!m) this.byPlugin.set(plugin, (m = new Map()));
    m.set(
      token,
      answer === null ? "fail" : answer === "timeout" ? "timeout" : { headers: answer.headers, body: encodeBody([answer.body], this.limit), trailers: answer.trailers },
    );
    if (m.size > KEPT_PER_PLUGIN) m.delete(m.keys().next().value as number);
  }

  /** The answer to the plugin's call `token` (forgotten once taken); null when none came. */
  take(plugin: Plugin, token: number): RecordedCalloutAnswer {
    const m = this.byPlugin.get(plugin);
    const answer = m?.get(token) ?? null;
    m?.delete(token);
    return answer;
  }
}
