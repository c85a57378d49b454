// The connection flags push, pull and inspect share, and how they become client options.
import type { Command } from "commander";
import { PASSWORD_ENV, USERNAME_ENV, resolveCredentials } from "../oci/credentials.js";
import type { ClientOptions } from "../oci/registry-client.js";
import type { ImageReference } from "../oci/reference.js";

export interface RegistryFlags {
  plainHttp?: boolean;
  username?: string;
  password?: string;
}

export function addRegistryOptions(command: Command): Command {
  return command
    .option("--plain-http", "talk HTTP instead of HTTPS (a local or in-cluster registry)")
    .option("--username <user>", `registry user (else $${USERNAME_ENV}, else ~/.docker/config.json auths)`)
    .option("--password <password>", `registry password or token (else $${PASSWORD_ENV})`);
}

export async function clientOptions(ref: ImageReference, flags: RegistryFlags): Promise<ClientOptions> {
  return { plainHttp: flags.plainHttp, credentials: await resolveCredentials(ref.registry, flags) };
}
