// Where the client may send credentials for a Bearer token (distribution docs/spec/auth/token.md):
// the registry names the token server in its challenge, so a hostile or compromised registry could
// name any host. Credentials go to a realm on the registry's own host, or to an https realm the
// user trusts explicitly; never from an https registry to a plain-http realm.

/** Token servers of well-known registries whose host differs from the registry's. */
const KNOWN_REALMS: Record<string, string[]> = { "registry-1.docker.io": ["auth.docker.io"] };

export const TRUST_REALM_FLAG = "--trust-token-realm";

/** Why a realm is unfit for the request at all, whatever the credentials. */
export function realmRefusal(realm: URL, registry: URL): string | undefined {
  if (realm.protocol !== "https:" && realm.protocol !== "http:") {
    return `the registry names a token realm with the scheme ${realm.protocol}, not http or https`;
  }
  if (registry.protocol === "https:" && realm.protocol === "http:") {
    return `the registry ${registry.host} (https) names the plain-http token realm ${realm.origin}; refusing to downgrade to http`;
  }
  return undefined;
}

/** Why the credentials must not go to this realm, or undefined when they may. */
export function credentialRefusal(realm: URL, registry: URL, trusted: readonly string[]): string | undefined {
  if (realm.hostname === registry.hostname) return undefined;
  const trust = [...trusted, ...(KNOWN_REALMS[registry.host] ?? [])];
  if (realm.protocol === "https:" && (trust.includes(realm.host) || trust.includes(realm.hostname))) return undefined;
  const how =
    realm.protocol === "https:"
      ? `pass ${TRUST_REALM_FLAG} ${realm.host} if it is the registry's token server`
      : "an http realm on another host is never trusted";
  return `refusing to send the credentials for ${registry.host} to the token realm ${realm.origin} on another host: ${how}`;
}
