// `npm run test:properties -- [--seed N] [--runs K]`: runs tests/reliability with PROPERTY_SEED=N
// (default: a fresh random seed, printed) and each property's run count multiplied by K.
// A failure prints the seed and counterexample path; PROPERTY_SEED=N reproduces it.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const seed = value("--seed") ?? String(Math.floor(Math.random() * 2 ** 31));
const runs = value("--runs") ?? "1";
if (!/^\d+$/.test(seed) || !(Number(runs) > 0)) {
  console.error("usage: npm run test:properties -- [--seed N] [--runs K]");
  process.exit(2);
}
console.log(`PROPERTY_SEED=${seed} PROPERTY_RUNS=${runs}`);
const dir = fileURLToPath(new URL(".", import.meta.url));
const result = spawnSync(process.execPath, ["--test", dir], {
  stdio: "inherit",
  env: { ...process.env, PROPERTY_SEED: seed, PROPERTY_RUNS: runs },
});
process.exit(result.status ?? 1);
