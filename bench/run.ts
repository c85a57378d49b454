// npm run bench [-- --json] [--requests N] [--warmup N] [--rounds N] [--cold N] [--no-build] [--functions]
//                  [--only a,b] [--skip a,b]
//
// Runs the sections below in order, prints what each measured, then every target with its verdict.
// A new section is a file exporting a Section (section.ts), added to SECTIONS. See bench/README.md.

import { formatBuildTimes, measureBuildTimes } from "./build-times.js";
import { configSizeSection } from "./config-size/index.js";
import { DEFAULT_OPTIONS, devProxyBench, formatDevProxyBench } from "./devproxy/index.js";
import { largePrimeSection } from "./large-prime/index.js";
import { parseArgs, UsageError } from "./options.js";
import { requestsSection } from "./requests/index.js";
import type { Section, SectionOutput } from "./section.js";
import { fmt, targetsTable, type Target } from "./stats.js";

const buildTimesSection: Section = {
  name: "build-times",
  async run(_o, progress) {
    const times = await measureBuildTimes(progress);
    return { text: formatBuildTimes(times), json: times, targets: [] };
  },
};

const devProxySection: Section = {
  name: "devproxy",
  async run(_o, progress) {
    const r = await devProxyBench(DEFAULT_OPTIONS, progress);
    const targets = r.verdicts.map((v) => ({ name: `dev proxy ${v.what}: ${v.target} the plain proxy's requests/s`, measured: `${v.ratio.toFixed(2)}x`, ok: v.met }));
    return { text: formatDevProxyBench(r), json: r, targets };
  },
};

const SECTIONS: Section[] = [requestsSection, largePrimeSection, configSizeSection, buildTimesSection, devProxySection];

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const unknown = [...(o.only ?? []), ...o.skip].filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length) throw new UsageError(`no section named ${unknown.join(", ")} (sections: ${SECTIONS.map((s) => s.name).join(", ")})`);
  const chosen = SECTIONS.filter((s) => (o.only === null || o.only.includes(s.name)) && !o.skip.includes(s.name));
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const t0 = Date.now();
  const outputs: [Section, SectionOutput][] = [];
  for (const section of chosen) {
    progress(`== ${section.name}`);
    const output = await section.run(o, progress);
    outputs.push([section, output]);
    // Printed as it finishes: a later section failing loses nothing already measured.
    if (!o.json) process.stdout.write(`== ${section.name}\n\n${output.text}\n\n`);
  }
  const targets: Target[] = outputs.flatMap(([, output]) => output.targets);
  if (o.json) {
    const doc = Object.fromEntries(outputs.map(([section, output]) => [section.name, output.json]));
    process.stdout.write(`${JSON.stringify({ ...doc, targets }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `== targets (node ${process.version}, V8 ${process.versions.v8}; ${fmt(o.requests)} requests per filter, ` +
      `${fmt(o.warmup)} warm-up, ${o.rounds} interleaved rounds, ${o.cold} cold starts; ${fmt((Date.now() - t0) / 1000)} s)\n\n` +
      `${targetsTable(targets)}\n`,
  );
}

try {
  await main();
} catch (e) {
  const message = e instanceof UsageError ? e.message : ((e as Error).stack ?? String(e));
  process.stderr.write(`bench: ${message}\n`);
  process.exitCode = 1;
}
