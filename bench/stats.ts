// Measurement and formatting helpers every section shares.

export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Half the interquartile range: differences below it are noise. */
export const spread = (xs: number[]): number => {
  if (xs.length < 4) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((3 * (s.length - 1)) / 4)] - s[Math.floor((s.length - 1) / 4)]) / 2;
};

/** The list started at `by`: each round starts with another subject, so none always runs first. */
export function rotate<T>(xs: T[], by: number): T[] {
  const k = by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

export function round(n: number | null, digits = 0): number | null {
  if (n === null || Number.isNaN(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "n/a";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || !(b > 0) || Number.isNaN(a) ? null : a / b;
}

/** Rows of cells as an aligned table: the first row is the header, the first column left-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

/** One target of an issue and how this run did: ok is null when it could not be measured. */
export interface Target {
  name: string;
  measured: string;
  ok: boolean | null;
}

export const verdict = (ok: boolean | null): string => (ok === null ? "n/a" : ok ? "PASS" : "FAIL");

export function targetsTable(targets: Target[]): string {
  return table([["target", "measured", "verdict"], ...targets.map((t) => [t.name, t.measured, verdict(t.ok)])]);
}
