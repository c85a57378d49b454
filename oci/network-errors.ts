// One-line reasons for requests that failed: no answer at all, or an error answer from the registry.
import { OciError } from "./errors.js";
import { SMALL_BODY_LIMIT } from "./limits.js";
import { printable } from "./printable.js";

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
  UND_ERR_HEADERS_OVERFLOW: "its response headers are too large",
  UND_ERR_SOCKET: "the connection closed mid-answer",
};

/** A one-line reason for a request that never got (all of) its response. */
export function networkReason(url: string, error: unknown): string {
  const origin = new URL(url).origin;
  if (error instanceof OciError) return error.message;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `${origin} did not answer in time`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code ?? "";
  let reason = ERROR_HINTS[code] ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  // fetch refuses some ports outright (the Fetch standard's "bad ports"), e.g. 6000 or 6667.
  if (reason === "bad port") reason = `port ${new URL(url).port} is one node's fetch refuses to use; pick another`;
  if (origin.startsWith("https:") && /SSL|TLS|EPROTO/.test(code + reason)) {
    reason += " (if the registry speaks plain HTTP, use --plain-http)";
  }
  return `cannot reach ${origin}: ${printable(reason)}`;
}

/**
 * The body of a response, refused past `limit` bytes (by its Content-Length or as it streams in);
 * a timeout or a reset while reading becomes a one-line reason too.
 */
export async function readBody(response: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new OciError(`${what} is ${declared} bytes, more than the ${limit} this client reads`);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new OciError(`${what} is more than the ${limit} bytes this client reads`);
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.length));
    }
  } catch (error) {
    throw new OciError(error instanceof OciError ? error.message : `${what}: ${networkReason(response.url || "http://registry", error)}`);
  }
  return Buffer.concat(chunks, total);
}

/** A one-line reason from a registry's error response: `{"errors":[{"code","message"}]}` when it sent one. */
export async function registryReason(what: string, response: Response): Promise<string> {
  let detail = "";
  try {
    const body = JSON.parse((await readBody(response, SMALL_BODY_LIMIT, "the error body")).toString("utf8")) as {
      errors?: { code?: unknown; message?: unknown }[];
    };
    if (Array.isArray(body.errors)) {
      detail = body.errors
        .slice(0, 3)
        .map((e) => [e?.code, e?.message].filter((part) => typeof part === "string" && part).join(": "))
        .join("; ")
        .slice(0, 300);
    }
  } catch {
    // not JSON, or too long: the status line says enough
  }
  const status = `${response.status} ${response.statusText}`.trim();
  return `${what} failed: registry answered ${printable(status)}${detail ? ` (${printable(detail)})` : ""}`;
}
