// Image references as docker and Istio write them: [registry/]repository[:tag][@sha256:...],
// optionally prefixed with oci:// as in a WasmPlugin url.
import { isDigest } from "./digest.js";
import { OciError } from "./errors.js";

export interface ImageReference {
  /** host[:port] as written, "docker.io" when omitted. */
  registry: string;
  /** The host the /v2/ API lives on (Docker Hub's differs from its name). */
  apiHost: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseReference(input: string): ImageReference {
  let rest = input.startsWith("oci://") ? input.slice("oci://".length) : input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new OciError(`invalid image reference "${input}": ${digest} is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new OciError(`invalid image reference "${input}": bad tag "${tag}"`);
  }
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  const hasRegistry = first.includes(".") || first.includes(":") || first === "localhost";
  const registry = hasRegistry ? first : "docker.io";
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) {
    throw new OciError(`invalid image reference "${input}": bad repository name "${repository}"`);
  }
  if (!tag && !digest) tag = "latest";
  const apiHost = registry === "docker.io" ? "registry-1.docker.io" : registry;
  return { registry, apiHost, repository, tag, digest };
}

export function formatReference(ref: ImageReference, digest = ref.digest): string {
  const name = `${ref.registry}/${ref.repository}`;
  return `${name}${ref.tag ? `:${ref.tag}` : ""}${digest ? `@${digest}` : ""}`;
}
