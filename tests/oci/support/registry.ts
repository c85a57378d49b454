// Starts Debian's docker-registry (CNCF distribution) on 127.0.0.1 with storage in a temp folder,
// optionally behind htpasswd or token authentication. Tests skip with `registryUnavailable` when
// the binary is missing (`.ci/run` installs it with apt).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REGISTRY_BINARY = "/usr/bin/docker-registry";

export const registryUnavailable = existsSync(REGISTRY_BINARY)
  ? false
  : `${REGISTRY_BINARY} is missing: install it with "apt-get install docker-registry" (.ci/run does) to run the registry tests`;

export const skopeoUnavailable =
  spawnSync("skopeo", ["--version"]).status === 0 ? false : 'skopeo is missing: install it with "apt-get install skopeo"';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface RegistryAuth {
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface Registry {
  /** host:port */
  host: string;
  stop(): Promise<void>;
}

function configYaml(storage: string, port: number, authFile: string | undefined, auth: RegistryAuth): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(storage)}`,
    "http:",
    `  addr: 127.0.0.1:${port}`,
  ];
  if (auth.htpasswd) lines.push("auth:", "  htpasswd:", "    realm: test", `    path: ${JSON.stringify(authFile)}`);
  if (auth.token) {
    const t = auth.token;
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${JSON.stringify(t.realm)}`,
      `    service: ${JSON.stringify(t.service)}`,
      `    issuer: ${JSON.stringify(t.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(authFile)}`,
    );
  }
  return lines.join("\n") + "\n";
}

async function waitUntilUp(host: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`docker-registry did not start on ${host}: ${log()}`);
}

export async function startRegistry(auth: RegistryAuth = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), "pwas-registry-"));
  const port = await freePort();
  const authFile = auth.htpasswd ? join(dir, "htpasswd") : auth.token ? join(dir, "root.crt") : undefined;
  if (authFile) await writeFile(authFile, auth.htpasswd ?? auth.token!.rootCertBundle);
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, configYaml(join(dir, "storage"), port, authFile, auth));
  // distribution reads REGISTRY_* variables as config overrides: keep the caller's out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("REGISTRY_")));
  const child = spawn(REGISTRY_BINARY, ["serve", configPath], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr = (stderr + chunk).slice(-2000)));
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(host, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, stop };
}

/** A bcrypt htpasswd line, made with apache2-utils' htpasswd (distribution accepts only bcrypt). */
export function htpasswdLine(username: string, password: string): string {
  const result = spawnSync("htpasswd", ["-Bbn", username, password], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`htpasswd failed: ${result.stderr || result.error}`);
  return result.stdout.trim() + "\n";
}

export const htpasswdUnavailable =
  spawnSync("htpasswd", ["-Bbn", "u", "p"]).status === 0 ? false : 'htpasswd is missing: install it with "apt-get install apache2-utils"';
