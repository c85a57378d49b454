// Where registry credentials come from, first match wins: the command-line flags, the
// environment, then the `auths` of the docker config file (`$DOCKER_CONFIG/config.json` or ~/.docker/config.json).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "./errors.js";

export interface Credentials {
  username: string;
  password: string;
}

export const USERNAME_ENV = "PROXY_WASM_AS_REGISTRY_USERNAME";
export const PASSWORD_ENV = "PROXY_WASM_AS_REGISTRY_PASSWORD";

/** The keys docker itself uses for a registry in config.json; Docker Hub's is its old v1 URL. */
function authKeys(registry: string): string[] {
  if (registry === "docker.io") return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

interface DockerAuth {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

async function fromDockerConfig(registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const path = join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  let auths: Record<string, DockerAuth>;
  try {
    auths = JSON.parse(text).auths ?? {};
  } catch {
    throw new OciError(`${path} is not valid JSON`);
  }
  for (const key of authKeys(registry)) {
    const entry = auths[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon === -1) throw new OciError(`${path}: the auth for ${key} is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    // An identity token is a refresh token; token servers accept it as the password of "<token>".
    if (entry.identitytoken) return { username: "<token>", password: entry.identitytoken };
  }
  return undefined;
}

export async function resolveCredentials(
  registry: string,
  flags: { username?: string; password?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  if (flags.username !== undefined || flags.password !== undefined) {
    if (flags.username === undefined || flags.password === undefined) {
      throw new OciError("--username and --password go together");
    }
    return { username: flags.username, password: flags.password };
  }
  const username = env[USERNAME_ENV];
  const password = env[PASSWORD_ENV];
  if (username && password) return { username, password };
  return fromDockerConfig(registry, env);
}
