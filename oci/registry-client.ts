// A small client for the OCI distribution API (distribution-spec spec.md) on node's fetch:
// blob existence and monolithic upload, manifests up and down, blobs down, with Basic and
// Bearer-token authentication (distribution docs/spec/auth/token.md) answered on the first 401.
// Credentials go only to the registry's own origin and to a token realm that passes token-realm.ts;
// redirects are followed by hand so neither credentials nor https are lost on the way.
import type { Credentials } from "./credentials.js";
import { isDigest, sha256Digest } from "./digest.js";
import { OciError } from "./errors.js";
import { MANIFEST_LIMIT, REDIRECT_LIMIT, SMALL_BODY_LIMIT } from "./limits.js";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { networkReason, readBody, registryReason } from "./network-errors.js";
import { printable } from "./printable.js";
import type { ImageReference } from "./reference.js";
import { credentialRefusal, realmRefusal } from "./token-realm.js";
import { parseChallenge } from "./www-authenticate.js";

export interface ClientOptions {
  plainHttp?: boolean;
  credentials?: Credentials;
  /** Per-request time limit in milliseconds, body included. */
  timeoutMs?: number;
  /** Token realm hosts (host or host:port) on another host than the registry that may receive the credentials. */
  trustedRealms?: string[];
}

type Access = "pull" | "pull,push";

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TOKEN = /^[\x21-\x7e]{1,8192}$/;

/** A digest from a manifest or a header, checked before it becomes part of a URL. */
export function checkedDigest(value: unknown, what: string): string {
  if (typeof value !== "string" || !isDigest(value)) {
    throw new OciError(`${what} has the digest ${printable(JSON.stringify(value) ?? String(value))}, not sha256:<64 hex digits>`);
  }
  return value;
}

export class RegistryClient {
  private readonly base: string;
  private readonly origin: URL;
  private authorization?: string;

  constructor(
    private readonly ref: ImageReference,
    private readonly options: ClientOptions = {},
  ) {
    const scheme = options.plainHttp ? "http" : "https";
    this.origin = new URL(`${scheme}://${ref.apiHost}`);
    this.base = `${this.origin.origin}/v2/${ref.repository}`;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 60_000;
  }

  private loginHint(): string {
    return `${this.ref.registry} requires a login: pass --username and --password, or log in with docker`;
  }

  /** One request, following redirects by hand: credentials only to the registry's origin, never https to http. */
  private async fetch(url: URL, init: RequestInit): Promise<{ response: Response; url: URL }> {
    let current = url;
    let method = init.method ?? "GET";
    let body = init.body;
    for (let hop = 0; ; hop++) {
      if (current.protocol !== "http:" && current.protocol !== "https:") {
        throw new OciError(`the registry sent the client to ${printable(current.protocol)} URL; only http and https are followed`);
      }
      if (this.origin.protocol === "https:" && current.protocol === "http:") {
        throw new OciError(`the registry ${this.ref.registry} (https) sent the client to ${printable(current.origin)}; refusing to downgrade to http`);
      }
      const headers: Record<string, string> = { ...init.headers };
      if (this.authorization && current.origin === this.origin.origin) headers.authorization = this.authorization;
      let response: Response;
      try {
        response = await fetch(current, {
          method,
          headers,
          body: body && new Uint8Array(body),
          redirect: "manual",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        throw new OciError(networkReason(current.href, error));
      }
      if (!REDIRECTS.has(response.status)) return { response, url: current };
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get("location");
      if (!location) throw new OciError(`${current.host} answered ${response.status} without a Location`);
      if (hop >= REDIRECT_LIMIT) throw new OciError(`${this.ref.registry} redirected more than ${REDIRECT_LIMIT} times`);
      try {
        current = new URL(location, current);
      } catch {
        throw new OciError(`${current.host} redirected to an invalid URL ${printable(location.slice(0, 200))}`);
      }
      if (response.status === 303) {
        method = "GET";
        body = undefined;
      }
    }
  }

  /** Sends a request, answering an authentication challenge of the registry (and only of the registry) once. */
  private async send(url: URL, init: RequestInit, access: Access): Promise<Response> {
    const first = await this.fetch(url, init);
    if (first.response.status !== 401) return first.response;
    await first.response.body?.cancel().catch(() => {});
    if (first.url.origin !== this.origin.origin) {
      throw new OciError(
        `${printable(first.url.origin)} asked for credentials; it is not the registry ${this.ref.registry}, so they are not sent there`,
      );
    }
    const challenge = parseChallenge(first.response.headers.get("www-authenticate") ?? "");
    if (!challenge) throw new OciError(`${first.url.host} answered 401 Unauthorized without a WWW-Authenticate challenge`);
    if (challenge.scheme === "basic") {
      this.authorization = `Basic ${this.basicToken()}`;
    } else if (challenge.scheme === "bearer") {
      this.authorization = `Bearer ${await this.bearerToken(challenge.params, access)}`;
    } else {
      throw new OciError(`${first.url.host} asks for unsupported authentication "${printable(challenge.scheme)}"`);
    }
    const second = await this.fetch(url, init);
    if (second.response.status === 401) {
      await second.response.body?.cancel().catch(() => {});
      throw new OciError(
        this.options.credentials ? `${this.ref.registry} rejected the credentials for ${this.ref.repository}` : this.loginHint(),
      );
    }
    return second.response;
  }

  private basicToken(): string {
    const credentials = this.options.credentials;
    if (!credentials) throw new OciError(this.loginHint());
    return Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
  }

  /** The token dance: ask the realm for a token for this repository, with Basic credentials if we have them and may. */
  private async bearerToken(params: Record<string, string>, access: Access): Promise<string> {
    if (!params.realm) throw new OciError(`${this.ref.registry} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new OciError(`${this.ref.registry} sent a Bearer challenge with an invalid realm ${printable(params.realm.slice(0, 200))}`);
    }
    const refusal =
      realmRefusal(url, this.origin) ??
      (this.options.credentials ? credentialRefusal(url, this.origin, this.options.trustedRealms ?? []) : undefined);
    if (refusal) throw new OciError(printable(refusal));
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", `repository:${this.ref.repository}:${access}`);
    const headers: Record<string, string> = {};
    if (this.options.credentials) headers.authorization = `Basic ${this.basicToken()}`;
    let response: Response;
    try {
      // No redirects: they would carry the credentials to wherever the token server points.
      response = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new OciError(networkReason(url.href, error));
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {});
      throw new OciError(
        this.options.credentials
          ? `the token server ${url.host} rejected the credentials for ${this.ref.repository}`
          : this.loginHint(),
      );
    }
    if (response.status !== 200) throw new OciError(await registryReason(`getting a token from ${url.host}`, response));
    const text = (await readBody(response, SMALL_BODY_LIMIT, `the answer of the token server ${url.host}`)).toString("utf8");
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse(text) ?? {};
    } catch {
      throw new OciError(`the token server ${url.host} answered with something that is not JSON`);
    }
    const token = body.token ?? body.access_token;
    if (token === undefined) throw new OciError(`the token server ${url.host} answered without a token`);
    if (typeof token !== "string" || !TOKEN.test(token)) {
      throw new OciError(`the token server ${url.host} answered with a token that is not printable ASCII`);
    }
    return token;
  }

  async hasBlob(digest: string, access: Access = "pull"): Promise<boolean> {
    const response = await this.send(new URL(`${this.base}/blobs/${checkedDigest(digest, "a blob")}`), { method: "HEAD" }, access);
    await response.body?.cancel().catch(() => {});
    if (response.status === 404) return false;
    if (!response.ok) throw new OciError(await registryReason(`checking blob ${digest}`, response));
    return true;
  }

  /** Monolithic upload: POST for an upload session, then one PUT with the whole blob. */
  async uploadBlob(digest: string, data: Buffer): Promise<void> {
    if (await this.hasBlob(digest, "pull,push")) return;
    const start = await this.send(new URL(`${this.base}/blobs/uploads/`), { method: "POST" }, "pull,push");
    if (start.status !== 202) throw new OciError(await registryReason(`starting the upload of ${digest}`, start));
    await start.body?.cancel().catch(() => {});
    const location = start.headers.get("location");
    if (!location) throw new OciError(`the registry started an upload without a Location header`);
    let url: URL;
    try {
      url = new URL(location, this.base);
    } catch {
      throw new OciError(`the registry started an upload at an invalid Location ${printable(location.slice(0, 200))}`);
    }
    url.searchParams.set("digest", digest);
    const put = await this.send(
      url,
      { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: data },
      "pull,push",
    );
    if (put.status !== 201) throw new OciError(await registryReason(`uploading ${digest}`, put));
    await put.body?.cancel().catch(() => {});
  }

  /** Stores a manifest under a tag or digest; returns the digest the registry computed. */
  async putManifest(reference: string, manifest: Buffer, mediaType: string): Promise<string> {
    const response = await this.send(
      new URL(`${this.base}/manifests/${reference}`),
      { method: "PUT", headers: { "content-type": mediaType }, body: manifest },
      "pull,push",
    );
    if (response.status !== 201) throw new OciError(await registryReason(`storing the manifest`, response));
    await response.body?.cancel().catch(() => {});
    const stored = response.headers.get("docker-content-digest");
    return stored ? checkedDigest(stored, "the registry's Docker-Content-Digest") : sha256Digest(manifest);
  }

  /** A manifest or index, at most MANIFEST_LIMIT bytes, checked against the digest when asked for by digest. */
  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const accept = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST].join(", ");
    const response = await this.send(new URL(`${this.base}/manifests/${reference}`), { headers: { accept } }, "pull");
    if (response.status === 404) {
      await response.body?.cancel().catch(() => {});
      throw new OciError(`${this.ref.registry}/${this.ref.repository}:${reference} not found`);
    }
    if (!response.ok) throw new OciError(await registryReason(`fetching the manifest`, response));
    const bytes = await readBody(response, MANIFEST_LIMIT, `the manifest of ${this.ref.repository}`);
    const digest = sha256Digest(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new OciError(`the registry sent a manifest whose digest ${digest} is not the requested ${reference}`);
    }
    return { bytes, digest, mediaType: response.headers.get("content-type") ?? "" };
  }

  /** A blob, read only up to the size its descriptor gives and checked against its digest. */
  async getBlob(descriptor: { digest: string; size: number }): Promise<Buffer> {
    const digest = checkedDigest(descriptor.digest, "a blob");
    const response = await this.send(new URL(`${this.base}/blobs/${digest}`), {}, "pull");
    if (!response.ok) throw new OciError(await registryReason(`fetching blob ${digest}`, response));
    const data = await readBody(response, descriptor.size, `blob ${digest}, which its descriptor says is ${descriptor.size} bytes,`);
    if (data.length !== descriptor.size) {
      throw new OciError(`blob ${digest} arrived with ${data.length} bytes, not the ${descriptor.size} its descriptor says`);
    }
    if (sha256Digest(data) !== digest) throw new OciError(`blob ${digest} arrived corrupted (digest mismatch)`);
    return data;
  }
}
