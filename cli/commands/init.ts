// `proxy-wasm-as init DIR [--template NAME] [--yes]`: scaffolds a standalone filter project from
// templates/<NAME>/: package.json (build, test, start), asconfig.json extending the package's
// preset, assembly/index.ts, test/filter.test.mjs (node's test runner + proxy-wasm-as/testing),
// README.md, .gitignore. Its proxy-wasm-as dependency is the copy that runs init: a file: path
// from a checkout, the version when installed from the registry.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { reportErrors } from "../report-errors.js";

/** The package root: dist/cli/commands/ -> ../../.. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const templatesDir = join(packageRoot, "templates");

interface TemplateInfo {
  description: string;
  start: string | null;
  try: string[];
  /** The filter's sources come from an example (a folder under the package root) instead of a copy of its own. */
  assembly?: string;
}

export function templates(): string[] {
  return readdirSync(templatesDir)
    .filter((n) => existsSync(join(templatesDir, n, "template.json")))
    .sort((a, b) => (a === "add-header" ? -1 : b === "add-header" ? 1 : a.localeCompare(b)));
}

/** `file:<root>` from a checkout (a .git, or not inside node_modules), else the exact version that ran init. */
export function dependencySpec(root = packageRoot): string {
  const inNodeModules = root.split(sep).includes("node_modules");
  if (existsSync(join(root, ".git")) || !inNodeModules) return `file:${root}`;
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return version;
}

/** An npm package name from a folder name. */
function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[-]+$/g, "");
  return name || "my-filter";
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

export interface InitResult {
  dir: string;
  name: string;
  template: string;
  dependency: string;
  files: string[];
}

export function scaffold(dirArg: string, template: string): InitResult {
  const available = templates();
  if (!available.includes(template)) throw new Error(`unknown template '${template}': one of ${available.join(", ")}`);
  const dir = resolve(dirArg);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new Error(`${dirArg} exists and is not an empty folder`);
  }
  const source = join(templatesDir, template);
  const info = JSON.parse(readFileSync(join(source, "template.json"), "utf8")) as TemplateInfo;
  const name = packageName(dir);
  const dependency = dependencySpec();
  const vars: Record<string, string> = {
    name,
    metric: name.replace(/[^a-z0-9]+/g, "_"),
    description: info.description,
    startLine: info.start
      ? `npm start       # ${info.start}\n`
      : "# (no npm start: the dev proxy serves HTTP; test TCP filters with plugin.runTcpConnection)\n",
    try: info.try.length ? `Then, in another terminal:\n\n\`\`\`sh\n${info.try.join("\n")}\n\`\`\`` : "",
  };
  const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (m, key: string) => vars[key] ?? m);
  const files: string[] = [];
  const write = (path: string, text: string) => {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    files.push(path);
  };
  const copy = (root: string, from: string, to: string) => {
    for (const entry of readdirSync(join(root, from), { withFileTypes: true })) {
      const path = from ? join(from, entry.name) : entry.name;
      if (entry.isDirectory()) copy(root, path, to);
      else if (path !== "template.json") write(join(to, path), fill(readFileSync(join(root, path), "utf8")));
    }
  };
  copy(source, "", "");
  if (info.assembly) copy(join(packageRoot, info.assembly), "", "assembly");
  const scripts: Record<string, string> = { build: "proxy-wasm-as build", test: "proxy-wasm-as build && node --test" };
  if (info.start) scripts.start = info.start;
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    description: `Proxy-Wasm filter: ${info.description}`,
    type: "module",
    scripts,
    dependencies: { "proxy-wasm-as": dependency },
  };
  write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
  write(".gitignore", "node_modules/\nbuild/\n");
  return { dir, name, template, dependency, files: files.sort() };
}

async function ask(question: string, choices: string[], fallback: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = (await rl.question(question)).trim();
      if (answer === "") return fallback;
      const byNumber = choices[Number(answer) - 1];
      if (byNumber) return byNumber;
      if (choices.includes(answer)) return answer;
      process.stderr.write(`  one of: ${choices.join(", ")}\n`);
    }
    return fallback;
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  program
    .command("init")
    .description("scaffold a filter project: package.json, asconfig.json, assembly/, tests, README")
    .argument("<dir>", "the new project's folder (must not exist, or be empty)")
    .option("--template <name>", "add-header, authorizer, http-auth, rate-limit or tcp")
    .option("-y, --yes", "ask nothing (also when not on a terminal)")
    .option("--json", "print {dir, name, template, dependency, files}")
    .action(
      reportErrors("init", async (dir: string, o: { template?: string; yes?: boolean; json?: boolean }) => {
        let template = o.template;
        if (template === undefined) {
          const interactive = !o.yes && !o.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
          const list = templates();
          if (interactive) {
            process.stderr.write(`Templates:\n${list.map((t, i) => `  ${i + 1}. ${t}`).join("\n")}\n`);
            template = await ask("Which one? [1] ", list, "add-header");
          } else template = "add-header";
        }
        const result = scaffold(dir, template);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        const rel = relative(process.cwd(), result.dir) || ".";
        const cd = rel.startsWith("..") ? result.dir : rel;
        process.stdout.write(
          `Created ${cd}/ from the ${template} template (proxy-wasm-as ${result.dependency}):\n` +
            result.files.map((f) => `  ${f}\n`).join("") +
            `\nNext:\n  cd ${shellQuote(cd)}\n  npm install\n  npm test        # builds build/plugin.wasm and runs the tests\n` +
            (result.files.includes("package.json") && template !== "tcp" ? "  npm start       # serves it on http://127.0.0.1:10000 (reloads on rebuild)\n" : ""),
        );
      }),
    );
}
