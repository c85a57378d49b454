// Large primes: the prime authorizer's check (examples/prime-authorizer/assembly/prime.ts, as the example's
// release build compiles it) against the same algorithm written for speed without an SDK (bench/raw/prime.ts),
// on the largest u64 prime and a few large composites. Each check is called straight from JavaScript, both
// modules interleaved round by round. Next to the time: the wasm instructions one check executes, counted
// on an instrumented copy (count.ts), per Montgomery multiplication, the loop's step.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ASC, OUT, ROOT, run } from "../requests/subjects.js";
import type { Section } from "../section.js";
import { fmt, median, ratio, rotate, table, type Target } from "../stats.js";
import { withInstructionCounter } from "./count.js";

const NUMBERS: { n: bigint; what: string }[] = [
  { n: 18446744073709551557n, what: "largest u64 prime" },
  { n: 18446743979220271189n, what: "4294967291 x 4294967279" },
  { n: 18446744030759878681n, what: "4294967291 squared" },
  { n: 3825123056546413051n, what: "strong pseudoprime to bases 2 to 23" },
];
const RATIO_TARGET = 1.1;
const ROUNDS = 60;
/** Calls per round and number: about a millisecond each. */
const CALLS = 200;

type Check = (n: bigint) => number;

interface Impl {
  name: "proxy-wasm-as" | "raw";
  source: string;
  flags: string[];
  wasm: string;
  check?: Check;
  counted?: { check: Check; count: WebAssembly.Global; loads: WebAssembly.Global };
}

/** Montgomery multiplications of the deterministic Miller–Rabin both implementations run (same order, same exits). */
function montgomerySteps(n: bigint): number {
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  if (bases.includes(n) || bases.some((p) => n % p === 0n) || n < 41n * 41n) return 0;
  let s = 0;
  let d = n - 1n;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  const bits = d.toString(2);
  const perPower = 1 + bits.length + [...bits].filter((b) => b === "1").length; // conversion, squarings, products
  let steps = 0;
  for (const a of bases) {
    steps += perPower;
    let x = modPow(a % n, d, n);
    if (x === 1n || x === n - 1n) continue;
    let witness = true;
    for (let r = 1; r < s; r++) {
      steps++;
      x = (x * x) % n;
      if (x === n - 1n) {
        witness = false;
        break;
      }
    }
    if (witness) break;
  }
  return steps;
}

function modPow(base: bigint, e: bigint, n: bigint): bigint {
  let result = 1n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % n;
    base = (base * base) % n;
    e >>= 1n;
  }
  return result;
}

function isPrimeReference(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n]) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  for (const a of [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n]) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let r = 1; r < s && composite; r++) {
      x = (x * x) % n;
      if (x === n - 1n) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

function instantiate(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
}

export const largePrimeSection: Section = {
  name: "large-prime",
  async run(o, progress) {
    const impls: Impl[] = [
      // The example's release options (asconfig.json's release target: -O3, shrink level 2, converge).
      { name: "proxy-wasm-as", source: "bench/large-prime/assembly/ours.ts", flags: ["-O3", "--shrinkLevel", "2", "--converge"], wasm: join(OUT, "large-prime-ours.wasm") },
      // The raw filters' options (bench/raw/asconfig.json).
      { name: "raw", source: "bench/large-prime/assembly/raw.ts", flags: ["-O3", "--shrinkLevel", "2", "--converge", "--noAssert"], wasm: join(OUT, "large-prime-raw.wasm") },
    ];
    for (const impl of impls) {
      if (o.build) {
        progress(`building large-prime/${impl.name}`);
        const error = run(process.execPath, [ASC, impl.source, "--config", "bench/large-prime/asconfig.json", ...impl.flags, "-o", impl.wasm], ROOT);
        if (error) throw new Error(`large-prime/${impl.name}: ${error}`);
      }
      const bytes = new Uint8Array(readFileSync(impl.wasm)) as Uint8Array<ArrayBuffer>;
      impl.check = instantiate(bytes).check as Check;
      const counted = instantiate(await withInstructionCounter(bytes));
      impl.counted = { check: counted.check as Check, count: counted.__count as WebAssembly.Global, loads: counted.__loads as WebAssembly.Global };
      for (const { n } of NUMBERS) {
        const expected = isPrimeReference(n);
        if (Boolean(impl.check(n)) !== expected || Boolean(impl.counted.check(n)) !== expected) {
          throw new Error(`large-prime/${impl.name}: wrong answer for ${n} (expected ${expected ? "prime" : "composite"})`);
        }
      }
    }
    progress(`large primes (${ROUNDS} interleaved rounds)`);
    const samples = new Map<string, number[]>();
    const key = (impl: Impl, n: bigint) => `${impl.name} ${n}`;
    for (const impl of impls) for (const { n } of NUMBERS) for (let i = 0; i < CALLS * 5; i++) impl.check!(n); // warm-up: TurboFan
    for (let round = 0; round < ROUNDS; round++) {
      for (const impl of rotate(impls, round)) {
        for (const { n } of NUMBERS) {
          const check = impl.check!;
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < CALLS; i++) check(n);
          const ns = Number(process.hrtime.bigint() - t0) / CALLS;
          const k = key(impl, n);
          if (!samples.has(k)) samples.set(k, []);
          samples.get(k)!.push(ns);
        }
      }
    }
    const rows = [["number", "", "steps", "ours ns", "raw ns", "ours / raw", "instr/step ours", "raw", "loads/step ours", "raw"]];
    const json: unknown[] = [];
    let worst: number | null = null;
    for (const { n, what } of NUMBERS) {
      const steps = montgomerySteps(n);
      const per = (impl: Impl) => {
        const ns = median(samples.get(key(impl, n))!);
        impl.counted!.count.value = 0n;
        impl.counted!.loads.value = 0n;
        impl.counted!.check(n);
        return { ns, instructions: Number(impl.counted!.count.value as bigint), loads: Number(impl.counted!.loads.value as bigint) };
      };
      const [us, them] = impls.map(per);
      // Paired by round: the load of a shared machine moves both alike.
      const ours = samples.get(key(impls[0], n))!;
      const raws = samples.get(key(impls[1], n))!;
      const r = median(ours.map((ns, round) => ratio(ns, raws[round]) ?? NaN));
      if (r !== null) worst = worst === null ? r : Math.max(worst, r);
      rows.push([
        n.toString(), what, fmt(steps), fmt(us.ns), fmt(them.ns), fmt(r, 2),
        ...[us.instructions, them.instructions, us.loads, them.loads].map((x) => (steps ? fmt(x / steps, 1) : "-")),
      ]);
      json.push({ n: n.toString(), what, steps, ours: us, raw: them, ratio: r });
    }
    const text = [
      table(rows),
      "",
      "ns: median over the rounds of one check called from JavaScript (no host); ours / raw: median of the rounds' ratios. steps: Montgomery multiplications the",
      "check makes. instr/step: wasm instructions one check executes (all but block/loop/else/end, counted on an",
      "instrumented copy of the same module), divided by its steps: the trial divisions and set-up are shared out too.",
      "loads/step: the memory loads among them (the bases; a Montgomery step itself loads nothing).",
    ].join("\n");
    const targets: Target[] = [
      {
        name: `large primes: ours <= ${RATIO_TARGET}x raw per check (worst of ${NUMBERS.length} numbers)`,
        measured: `${fmt(worst, 2)}x`,
        ok: worst === null ? null : worst <= RATIO_TARGET,
      },
    ];
    return { text, json, targets };
  },
};
