// A minimal token server (distribution docs/spec/auth/token.md) for the registry's `auth: token`:
// it checks Basic credentials and issues an ES256 JWT whose x5c certificate is the registry's
// root bundle. Needs the openssl CLI to make the certificate.
import { spawnSync } from "node:child_process";
import { randomUUID, sign } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";

export const opensslUnavailable =
  spawnSync("openssl", ["version"]).status === 0 ? false : "openssl is missing: it makes the token server's certificate";

export const SERVICE = "test-registry";
export const ISSUER = "test-token-issuer";

export interface TokenServer {
  realm: string;
  certificate: string;
  /** Every scope asked for, in order; the tests check the client asked for the right access. */
  scopes: string[];
  stop(): Promise<void>;
}

async function selfSignedCertificate(): Promise<{ key: string; certificate: string }> {
  const dir = await mkdtemp(join(tmpdir(), "pwas-token-"));
  try {
    const result = spawnSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=pwas-token-test",
    ], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
    return { key: await readFile(join(dir, "key.pem"), "utf8"), certificate: await readFile(join(dir, "cert.pem"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export async function startTokenServer(username: string, password: string): Promise<TokenServer> {
  const { key, certificate } = await selfSignedCertificate();
  const der = certificate.replace(/-----[^-]+-----|\s/g, "");
  const scopes: string[] = [];
  const expected = "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const scope = url.searchParams.get("scope") ?? "";
    scopes.push(scope);
    if (request.headers.authorization !== expected) {
      response.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const [type, name, actions] = scope.split(":");
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "ES256", typ: "JWT", x5c: [der] };
    const claims = {
      iss: ISSUER,
      sub: username,
      aud: url.searchParams.get("service"),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: type ? [{ type, name, actions: (actions ?? "").split(",") }] : [],
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ token: `${input}.${base64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certificate,
    scopes,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
