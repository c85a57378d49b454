// The bench's command line (see bench/README.md).

/** A mistake in the command line: its message is all the user needs. */
export class UsageError extends Error {}

export interface Options {
  json: boolean;
  requests: number;
  warmup: number;
  cold: number;
  rounds: number;
  build: boolean;
  functions: boolean;
  /** Sections to run, by name; null runs them all. */
  only: string[] | null;
  skip: string[];
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false, requests: 1_000_000, warmup: 10_000, cold: 20, rounds: 400, build: true, functions: false, only: null, skip: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`${a} needs a positive integer`);
      return v;
    };
    const names = () => {
      const v = argv[++i];
      if (!v) throw new UsageError(`${a} needs section names, separated by commas`);
      return v.split(",").map((s) => s.trim()).filter(Boolean);
    };
    if (a === "--json") o.json = true;
    else if (a === "--requests") o.requests = num();
    else if (a === "--warmup") o.warmup = num();
    else if (a === "--cold") o.cold = num();
    else if (a === "--rounds") o.rounds = num();
    else if (a === "--no-build") o.build = false;
    else if (a === "--functions") o.functions = true;
    else if (a === "--only") o.only = names();
    else if (a === "--skip") o.skip.push(...names());
    else throw new UsageError(`unknown option ${a} (see bench/README.md)`);
  }
  if (o.requests <= o.warmup) throw new UsageError("--requests must be larger than --warmup");
  return o;
}
