// The connection flags push, pull and inspect share, and how they become client options.
import type { Command } from "commander";
import { PASSWORD_ENV, USERNAME_ENV, resolveCredentials } from "../oci/credentials.js";
import type { ClientOptions } from "../oci/registry-client.js";
import type { ImageReference } from "../oci/reference.js";
import { TRUST_REALM_FLAG } from "../oci/token-realm.js";

export interface RegistryFlags {
  plainHttp?: boolean;
  username?: string;
  password?: string;
  trustTokenRealm?: string[];
  timeout?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addRegistryOptions(command: Command): Command {
  return command
    .option("--plain-http", "talk HTTP instead of HTTPS (a local or in-cluster registry)")
    .option("--username <user>", `registry user (else $${USERNAME_ENV}, else ~/.docker/config.json auths)`)
    .option("--password <password>", `registry password or token (else $${PASSWORD_ENV})`)
    .option(
      `${TRUST_REALM_FLAG} <host>`,
      "an https token server on another host than the registry that may receive the credentials (repeatable)",
      collect,
      [],
    )
    .option("--timeout <seconds>", "give up on a registry request (its body included) after this long", "60");
}

function timeoutMs(text: string | undefined): number {
  const seconds = Number(text ?? "60");
  if (!(seconds > 0 && seconds <= 3600)) throw new Error(`bad --timeout "${text}": seconds, above 0 and at most 3600`);
  return seconds * 1000;
}

export async function clientOptions(command: string, ref: ImageReference, flags: RegistryFlags): Promise<ClientOptions> {
  const credentials = await resolveCredentials(ref.registry, flags);
  if (credentials && flags.plainHttp) {
    process.stderr.write(
      `proxy-wasm-as ${command}: warning: --plain-http sends the credentials for ${ref.registry} unencrypted; anyone on the path can read them\n`,
    );
  }
  return { plainHttp: flags.plainHttp, credentials, trustedRealms: flags.trustTokenRealm ?? [], timeoutMs: timeoutMs(flags.timeout) };
}
