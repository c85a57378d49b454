// A private npm registry for the tests: verdaccio on loopback, storage in a temp folder, no uplink (nothing
// is fetched from the internet through it). What a test installs must be published to it first:
// publishDependencies() republishes packages from this checkout's node_modules (offline).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { repoRoot } from "../support/plugins.js";

export interface Registry {
  url: string;
  /** npm's environment for a project using this registry (its own npmrc and cache; no npm_* of a parent npm). */
  env: NodeJS.ProcessEnv;
  npm(args: string[], cwd: string, timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  npx(args: string[], cwd: string, timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}): ${log()}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer on ${url} within ${ms} ms: ${log()}`);
}

export async function startRegistry(dir: string): Promise<Registry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "verdaccio.yaml");
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, "storage"))}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(join(dir, "htpasswd"))}`,
      "uplinks: {}",
      // binaryen, which asc 0.28 depends on, packs to 23 MB; verdaccio's default limit is 10 MB.
      "max_body_size: 64mb",
      "packages:",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "middlewares:",
      "  audit:",
      "    enabled: false",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const bin = join(repoRoot, "node_modules", "verdaccio", "bin", "verdaccio");
  const child = spawn(process.execPath, [bin, "--config", config, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  try {
    await waitUntilUp(url, child, () => log, 60_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  // A user, through the registry's API (what `npm adduser` does), for a token to publish with.
  const user = await fetch(`${url}-/user/org.couchdb.user:tester`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "tester", password: "tester-password" }),
  });
  const { token } = (await user.json()) as { token?: string };
  if (!token) throw new Error(`verdaccio gave no token (HTTP ${user.status})`);
  const npmrc = join(dir, "npmrc");
  writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "NODE_TEST_CONTEXT" && key !== "INIT_CWD") env[key] = value;
  }
  // A user's npm, not a package's bin of this checkout (an old npm sits in node_modules/.bin under `npm test`).
  env.PATH = (env.PATH ?? "")
    .split(":")
    .filter((p) => !p.includes("node_modules/.bin"))
    .join(":");
  Object.assign(env, { npm_config_userconfig: npmrc, npm_config_cache: join(dir, "npm-cache"), npm_config_registry: url, NO_COLOR: "1" });
  return {
    url,
    env,
    npm: (args, cwd, timeoutMs = 300_000) => spawnSync("npm", args, { cwd, env, encoding: "utf8", timeout: timeoutMs }),
    npx: (args, cwd, timeoutMs = 300_000) => spawnSync("npx", args, { cwd, env, encoding: "utf8", timeout: timeoutMs }),
    stop: () => child.kill("SIGTERM"),
  };
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

/** The installed folder of `name` as seen from the package in `from` (node's lookup, up to the checkout's root). */
function installed(name: string, from: string): string {
  for (let dir = from; dir.startsWith(repoRoot.replace(/\/$/, "")); dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    try {
      readFileSync(join(candidate, "package.json"));
      return candidate;
    } catch {
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`${name} is not installed in this checkout (npm install first)`);
}

/**
 * Publishes `names` and everything they depend on, as installed in this checkout, to the registry: a user's
 * install then needs no other registry. Returns name@version of each.
 */
export function publishDependencies(registry: Registry, names: string[], workDir: string): string[] {
  const seen = new Map<string, string>();
  const visit = (name: string, from: string) => {
    const folder = installed(name, from);
    const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as Manifest;
    const id = `${manifest.name}@${manifest.version}`;
    if (seen.has(id)) return;
    seen.set(id, folder);
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, folder);
  };
  for (const name of names) visit(name, repoRoot.replace(/\/$/, ""));
  mkdirSync(workDir, { recursive: true });
  for (const [id, folder] of seen) {
    const pack = registry.npm(["pack", folder, "--ignore-scripts", "--pack-destination", workDir, "--json"], workDir);
    if (pack.status !== 0) throw new Error(`npm pack ${id}: ${pack.stderr}`);
    const [{ filename }] = JSON.parse(pack.stdout) as { filename: string }[];
    // A tag of our own: npm wants one for prerelease versions (binaryen's are nightlies).
    const publish = registry.npm(["publish", join(workDir, filename), "--ignore-scripts", "--tag", "test"], workDir);
    if (publish.status !== 0) throw new Error(`npm publish ${id}: ${publish.stderr}`);
  }
  return [...seen.keys()];
}
