// A section of the bench: it measures one thing and says how its targets did. The entry (run.ts) runs
// the sections in order, prints each one's text, then every target's verdict in one table.
import type { Options } from "./options.js";
import type { Target } from "./stats.js";

export interface SectionOutput {
  /** What the section prints (tables, notes). */
  text: string;
  /** The same numbers for --json, under the section's name. */
  json: unknown;
  targets: Target[];
}

export interface Section {
  /** For --only and --skip, and the key of its numbers in the JSON document. */
  name: string;
  run(o: Options, progress: (line: string) => void): SectionOutput | Promise<SectionOutput>;
}
