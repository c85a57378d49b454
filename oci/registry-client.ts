// A small client for the OCI distribution API (distribution-spec spec.md) on node's fetch:
// blob existence and monolithic upload, manifests up and down, blobs down, with Basic and
// Bearer-token authentication (distribution docs/spec/auth/token.md) answered on the first 401.
import type { Credentials } from "./credentials.js";
import { sha256Digest } from "./digest.js";
import { OciError } from "./errors.js";
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import type { ImageReference } from "./reference.js";
import { parseChallenge } from "./www-authenticate.js";

export interface ClientOptions {
  plainHttp?: boolean;
  credentials?: Credentials;
  /** Per-request time limit in milliseconds. */
  timeoutMs?: number;
}

type Access = "pull" | "pull,push";

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

const ERROR_HINTS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EPROTO: "TLS handshake failed",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS handshake failed",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "untrusted certificate",
};

/** A one-line reason for a fetch that never got a response. */
function networkReason(url: string, error: unknown): string {
  const origin = new URL(url).origin;
  if (error instanceof Error && error.name === "TimeoutError") return `${origin} did not answer in time`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? "";
  let reason = ERROR_HINTS[code] ?? cause?.message ?? String(error);
  // fetch refuses some ports outright (the Fetch standard's "bad ports"), e.g. 6000 or 6667.
  if (reason === "bad port") reason = `port ${new URL(url).port} is one node's fetch refuses to use; pick another`;
  if (origin.startsWith("https:") && /SSL|TLS|EPROTO/.test(code + reason)) {
    reason += " (if the registry speaks plain HTTP, use --plain-http)";
  }
  return `cannot reach ${origin}: ${reason}`;
}

/** A one-line reason from a registry's error response: `{"errors":[{"code","message"}]}` when it sent one. */
async function registryReason(what: string, response: Response): Promise<string> {
  let detail = "";
  try {
    const text = await response.text();
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch {
    // not JSON: the status line says enough
  }
  const status = `${response.status} ${response.statusText}`.trim();
  return `${what} failed: registry answered ${status}${detail ? ` (${detail})` : ""}`;
}

export class RegistryClient {
  private readonly base: string;
  private authorization?: string;

  constructor(
    private readonly ref: ImageReference,
    private readonly options: ClientOptions = {},
  ) {
    const scheme = options.plainHttp ? "http" : "https";
    this.base = `${scheme}://${ref.apiHost}/v2/${ref.repository}`;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.authorization) headers.authorization = this.authorization;
    try {
      return await fetch(url, {
        method: init.method ?? "GET",
        headers,
        body: init.body && new Uint8Array(init.body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw new OciError(networkReason(url, error));
    }
  }

  /** Sends a request, answering an authentication challenge once. */
  private async send(url: string, init: RequestInit, access: Access): Promise<Response> {
    const first = await this.fetch(url, init);
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers.get("www-authenticate") ?? "");
    await first.body?.cancel();
    if (!challenge) throw new OciError(`${new URL(url).host} answered 401 Unauthorized without a WWW-Authenticate challenge`);
    if (challenge.scheme === "basic") {
      this.authorization = `Basic ${this.basicToken()}`;
    } else if (challenge.scheme === "bearer") {
      this.authorization = `Bearer ${await this.bearerToken(challenge.params, access)}`;
    } else {
      throw new OciError(`${new URL(url).host} asks for unsupported authentication "${challenge.scheme}"`);
    }
    const second = await this.fetch(url, init);
    if (second.status === 401) {
      await second.body?.cancel();
      throw new OciError(
        this.options.credentials
          ? `${this.ref.registry} rejected the credentials for ${this.ref.repository}`
          : `${this.ref.registry} requires a login: pass --username and --password, or log in with docker`,
      );
    }
    return second;
  }

  private basicToken(): string {
    const credentials = this.options.credentials;
    if (!credentials) {
      throw new OciError(`${this.ref.registry} requires a login: pass --username and --password, or log in with docker`);
    }
    return Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
  }

  /** The token dance: ask the realm for a token for this repository, with Basic credentials if we have them. */
  private async bearerToken(params: Record<string, string>, access: Access): Promise<string> {
    if (!params.realm) throw new OciError(`${this.ref.registry} sent a Bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", `repository:${this.ref.repository}:${access}`);
    const headers: Record<string, string> = {};
    if (this.options.credentials) headers.authorization = `Basic ${this.basicToken()}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000) });
    } catch (error) {
      throw new OciError(networkReason(url.href, error));
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new OciError(
        this.options.credentials
          ? `the token server ${url.host} rejected the credentials for ${this.ref.repository}`
          : `${this.ref.registry} requires a login: pass --username and --password, or log in with docker`,
      );
    }
    if (!response.ok) throw new OciError(await registryReason(`getting a token from ${url.host}`, response));
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new OciError(`the token server ${url.host} answered without a token`);
    return token;
  }

  async hasBlob(digest: string, access: Access = "pull"): Promise<boolean> {
    const response = await this.send(`${this.base}/blobs/${digest}`, { method: "HEAD" }, access);
    if (response.status === 404) return false;
    if (!response.ok) throw new OciError(await registryReason(`checking blob ${digest}`, response));
    return true;
  }

  /** Monolithic upload: POST for an upload session, then one PUT with the whole blob. */
  async uploadBlob(digest: string, data: Buffer): Promise<void> {
    if (await this.hasBlob(digest, "pull,push")) return;
    const start = await this.send(`${this.base}/blobs/uploads/`, { method: "POST" }, "pull,push");
    if (start.status !== 202) throw new OciError(await registryReason(`starting the upload of ${digest}`, start));
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (!location) throw new OciError(`the registry started an upload without a Location header`);
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    const put = await this.send(
      url.href,
      { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: data },
      "pull,push",
    );
    if (put.status !== 201) throw new OciError(await registryReason(`uploading ${digest}`, put));
    await put.body?.cancel();
  }

  /** Stores a manifest under a tag or digest; returns the digest the registry computed. */
  async putManifest(reference: string, manifest: Buffer, mediaType: string): Promise<string> {
    const response = await this.send(
      `${this.base}/manifests/${reference}`,
      { method: "PUT", headers: { "content-type": mediaType }, body: manifest },
      "pull,push",
    );
    if (response.status !== 201) throw new OciError(await registryReason(`storing the manifest`, response));
    await response.body?.cancel();
    return response.headers.get("docker-content-digest") ?? sha256Digest(manifest);
  }

  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const accept = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX].join(", ");
    const response = await this.send(`${this.base}/manifests/${reference}`, { headers: { accept } }, "pull");
    if (response.status === 404) {
      await response.body?.cancel();
      throw new OciError(`${this.ref.registry}/${this.ref.repository}:${reference} not found`);
    }
    if (!response.ok) throw new OciError(await registryReason(`fetching the manifest`, response));
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new OciError(`the registry sent a manifest whose digest ${digest} is not the requested ${reference}`);
    }
    return { bytes, digest, mediaType: response.headers.get("content-type") ?? "" };
  }

  async getBlob(digest: string): Promise<Buffer> {
    const response = await this.send(`${this.base}/blobs/${digest}`, {}, "pull");
    if (!response.ok) throw new OciError(await registryReason(`fetching blob ${digest}`, response));
    const data = Buffer.from(await response.arrayBuffer());
    if (sha256Digest(data) !== digest) throw new OciError(`blob ${digest} arrived corrupted (digest mismatch)`);
    return data;
  }
}
