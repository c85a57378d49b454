// The header diff of one filter phase: what came in against what the filter passed on, by name
// (case-insensitive, as header maps compare), keeping repeated headers apart.

import type { Header } from "../../host/index.js";
import { valuesByName } from "../headers.js";
import { clip, MAX_DIFF_ENTRIES, type HeaderDiff } from "./events.js";

export function headerDiff(before: readonly Header[], after: readonly Header[]): HeaderDiff {
  const was = valuesByName(before);
  const now = valuesByName(after);
  const diff: HeaderDiff = { added: [], replaced: [], removed: [], omitted: 0 };
  let entries = 0;
  const push = <T>(list: T[], entry: T) => {
    if (entries++ < MAX_DIFF_ENTRIES) list.push(entry);
    else diff.omitted++;
  };
  for (const name of new Set([...was.keys(), ...now.keys()])) {
    const old = [...(was.get(name) ?? [])];
    const fresh: string[] = [];
    // Values present on both sides are unchanged, whatever their order.
    for (const value of now.get(name) ?? []) {
      const i = old.indexOf(value);
      if (i >= 0) old.splice(i, 1);
      else fresh.push(value);
    }
    const paired = Math.min(old.length, fresh.length);
    for (let i = 0; i < paired; i++) push(diff.replaced, [clip(name), clip(old[i]), clip(fresh[i])] as [string, string, string]);
    for (const value of fresh.slice(paired)) push(diff.added, [clip(name), clip(value)] as [string, string]);
    for (const value of old.slice(paired)) push(diff.removed, [clip(name), clip(value)] as [string, string]);
  }
  return diff;
}

export function diffIsEmpty(diff: HeaderDiff): boolean {
  return diff.added.length + diff.replaced.length + diff.removed.length + diff.omitted === 0;
}
