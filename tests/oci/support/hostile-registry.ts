// A registry written for the tests, on 127.0.0.1, that misbehaves on purpose: each test gives the
// answer to each request. Every request is recorded (method, path, Host, Authorization) so a test
// can check where credentials went. With `tls`, it serves https with a certificate for 127.0.0.1
// and localhost; the CLI under test trusts it through NODE_EXTRA_CA_CERTS.
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Digest } from "../../../oci/digest.js";
import type { Image } from "../../../oci/image.js";

export interface Seen {
  method: string;
  path: string;
  host: string;
  authorization?: string;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => unknown;

export interface HostileServer {
  /** host:port on 127.0.0.1 */
  host: string;
  /** the same server named localhost: another host as far as origins and credentials go */
  otherHost: string;
  origin: string;
  seen: Seen[];
  handle: Handler;
  stop(): Promise<void>;
}

export interface TlsFiles {
  key: string;
  cert: string;
  /** the certificate's path, for NODE_EXTRA_CA_CERTS */
  certPath: string;
  dir: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
export async function makeTls(): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), "pwas-hostile-tls-"));
  const result = spawnSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  const [key, cert] = await Promise.all([readFile(join(dir, "key.pem"), "utf8"), readFile(join(dir, "cert.pem"), "utf8")]);
  return { key, cert, certPath: join(dir, "cert.pem"), dir };
}

export async function startHostile(handle: Handler, tls?: TlsFiles): Promise<HostileServer> {
  const server: HostileServer = { host: "", otherHost: "", origin: "", seen: [], handle, stop: async () => {} };
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    server.seen.push({
      method: request.method ?? "",
      path: request.url ?? "",
      host: request.headers.host ?? "",
      authorization: request.headers.authorization,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 16 * 1024 * 1024) chunks.push(chunk);
    });
    request.on("end", () => server.handle(request, response, Buffer.concat(chunks)));
    request.on("error", () => {});
    response.on("error", () => {});
  };
  const http = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, listener) : createHttpServer(listener);
  http.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  server.host = `127.0.0.1:${port}`;
  server.otherHost = `localhost:${port}`;
  server.origin = `${tls ? "https" : "http"}://${server.host}`;
  server.stop = () =>
    new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return server;
}

/** Answers like a registry that holds `image` under repository `repo`, tag v1, and accepts uploads. */
export function serveImage(repo: string, image: Image): Handler {
  return (request, response, body) => {
    const url = new URL(request.url ?? "/", "http://x");
    const path = url.pathname;
    const json = (status: number, value: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (path === "/v2/") return json(200, {});
    const manifest = new RegExp(`^/v2/${repo}/manifests/(.+)$`).exec(path);
    if (manifest && request.method === "PUT") {
      return response.writeHead(201, { "docker-content-digest": sha256Digest(body) }).end();
    }
    if (manifest && (manifest[1] === "v1" || manifest[1] === image.manifestDigest)) {
      return response
        .writeHead(200, { "content-type": image.mediaType ?? "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": image.manifestDigest })
        .end(request.method === "HEAD" ? undefined : image.manifest);
    }
    const blob = new RegExp(`^/v2/${repo}/blobs/(sha256:[a-f0-9]{64})$`).exec(path);
    if (blob && image.blobs.has(blob[1])) return response.writeHead(200).end(request.method === "HEAD" ? undefined : image.blobs.get(blob[1]));
    if (blob) return json(404, { errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] });
    if (path === `/v2/${repo}/blobs/uploads/` && request.method === "POST") {
      return response.writeHead(202, { location: `/v2/${repo}/blobs/uploads/session` }).end();
    }
    if (path.startsWith(`/v2/${repo}/blobs/uploads/`) && request.method === "PUT") return response.writeHead(201).end();
    return json(404, { errors: [{ code: "NAME_UNKNOWN", message: "unknown" }] });
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI without blocking this process's event loop, which serves the hostile registry. */
export function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout = (stdout + chunk).slice(-64 * 1024)));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-64 * 1024)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export async function removeTls(tls: TlsFiles | undefined): Promise<void> {
  if (tls) await rm(tls.dir, { recursive: true, force: true });
}
