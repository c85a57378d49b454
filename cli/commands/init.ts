// `proxy-wasm-as init DIR [--template NAME] [--sdk PATH] [--yes]`: scaffolds a standalone filter project from
// templates/<NAME>/: package.json (build, test, start), asconfig.json extending the package's preset,
// assembly/index.ts, test/filter.test.mjs (node's test runner + proxy-wasm-as/testing), tsconfigs for editors
// (AssemblyScript's types in assembly/, Node's in test/), README.md, .gitignore. Its proxy-wasm-as dependency is
// `^VERSION` of the SDK that ran init, or `file:PATH` with --sdk (to develop the SDK from a checkout).

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
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

function sdkPackage(): { version: string; devDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
}

/** `^VERSION` of this SDK, or `file:<absolute path>` of an SDK checkout given with --sdk. */
export function dependencySpec(sdkPath?: string): string {
  if (sdkPath === undefined) return `^${sdkPackage().version}`;
  const root = resolve(sdkPath);
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: unknown }).name;
  } catch {
    throw new Error(`--sdk ${sdkPath}: no package.json there (give the folder of a proxy-wasm-as checkout)`);
  }
  if (name !== "proxy-wasm-as") throw new Error(`--sdk ${sdkPath}: that package is ${JSON.stringify(name)}, not proxy-wasm-as`);
  return `file:${root}`;
}

/** assembly/tsconfig.json: AssemblyScript's types, and "proxy-wasm-as" as the SDK's declarations. */
const ASSEMBLY_TSCONFIG = `${JSON.stringify({ extends: "proxy-wasm-as/tsconfig.assembly.json", include: ["./**/*.ts"] }, null, 2)}\n`;

/** tsconfig.json: the Node side (tests, scripts) with Node's types; assembly/ has its own. */
const NODE_TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "es2022",
      module: "nodenext",
      allowJs: true,
      checkJs: true,
      noEmit: true,
      strict: false,
      skipLibCheck: true,
      types: ["node"],
    },
    include: ["test", "scripts"],
  },
  null,
  2,
)}\n`;

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

export function scaffold(dirArg: string, template: string, sdkPath?: string): InitResult {
  const available = templates();
  if (!available.includes(template)) throw new Error(`unknown template '${template}': one of ${available.join(", ")}`);
  const dir = resolve(dirArg);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new Error(`${dirArg} exists and is not an empty folder`);
  }
  const source = join(templatesDir, template);
  const info = JSON.parse(readFileSync(join(source, "template.json"), "utf8")) as TemplateInfo;
  const name = packageName(dir);
  const dependency = dependencySpec(sdkPath);
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
  const typesNode = sdkPackage().devDependencies?.["@types/node"];
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    description: `Proxy-Wasm filter: ${info.description}`,
    type: "module",
    scripts,
    dependencies: { "proxy-wasm-as": dependency },
    // Node's types for the tests in an editor (proxy-wasm-as/testing brings its own).
    ...(typesNode ? { devDependencies: { "@types/node": typesNode } } : {}),
  };
  write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
  if (!files.includes(join("assembly", "tsconfig.json"))) write(join("assembly", "tsconfig.json"), ASSEMBLY_TSCONFIG);
  write("tsconfig.json", NODE_TSCONFIG);
  write(".gitignore", "node_modules/\nbuild/\n");
  // VS Code: debug the tests or the dev proxy with breakpoints in assembly/ (test --inspect, run --inspect).
  write(join(".vscode", "launch.json"), readFileSync(join(templatesDir, "launch.json"), "utf8"));
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
    .option("--sdk <path>", "depend on this proxy-wasm-as checkout (file:PATH) instead of the registry version")
    .option("-y, --yes", "ask nothing (also when not on a terminal)")
    .option("--json", "print {dir, name, template, dependency, files}")
    .action(
      reportErrors("init", async (dir: string, o: { template?: string; sdk?: string; yes?: boolean; json?: boolean }) => {
        let template = o.template;
        if (template === undefined) {
          const interactive = !o.yes && !o.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
          const list = templates();
          if (interactive) {
            process.stderr.write(`Templates:\n${list.map((t, i) => `  ${i + 1}. ${t}`).join("\n")}\n`);
            template = await ask("Which one? [1] ", list, "add-header");
          } else template = "add-header";
        }
        const result = scaffold(dir, template, o.sdk);
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
