// push, pull and inspect against a registry that misbehaves on purpose (support/hostile-registry.ts):
// credentials must go only to the registry's origin and to a token realm that passes the check, https
// is never downgraded, what the registry sends is bounded and validated, and its text is escaped.
// Each case drives the CLI as a user would, on 127.0.0.1.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { sha256Digest } from "../../oci/digest.js";
import { buildImage, imageFromManifest, type Image } from "../../oci/image.js";
import { OCI_LAYER_TAR_GZIP, OCI_MANIFEST } from "../../oci/media-types.js";
import { createTar } from "../../oci/tar.js";
import { pluginWasm } from "./support/plugin.js";
import {
  makeTls,
  removeTls,
  runCli,
  serveImage,
  startHostile,
  type Handler,
  type HostileServer,
  type TlsFiles,
} from "./support/hostile-registry.js";
import { opensslUnavailable } from "./support/token-server.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "cli", "main.js");
const BASIC = "Basic " + Buffer.from("alice:s3cret").toString("base64");
const LOGIN = ["--username", "alice", "--password", "s3cret"];

const servers: HostileServer[] = [];
async function serve(handle: Handler, tls?: TlsFiles): Promise<HostileServer> {
  const server = await startHostile(handle, tls);
  servers.push(server);
  return server;
}

/** A registry that wants Basic credentials for everything, then behaves as `inner`. */
function basicOnly(inner: Handler): Handler {
  return (request, response, body) => {
    if (request.headers.authorization !== BASIC) {
      return response.writeHead(401, { "www-authenticate": 'Basic realm="hostile"' }).end();
    }
    return inner(request, response, body);
  };
}

/** A registry that answers with a Bearer challenge naming `realm`, and accepts `Bearer good-token`. */
function bearerOnly(realm: string, inner: Handler): Handler {
  return (request, response, body) => {
    if (request.headers.authorization !== "Bearer good-token") {
      return response.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="hostile"` }).end();
    }
    return inner(request, response, body);
  };
}

const tokenServer: Handler = (request, response) =>
  request.headers.authorization === BASIC
    ? response.writeHead(200, { "content-type": "application/json" }).end('{"token":"good-token"}')
    : response.writeHead(401).end();

/** Changes one answer of `inner`: the first route whose test matches the request's method and path. */
function overriding(inner: Handler, routes: [RegExp, Handler][]): Handler {
  return (request, response, body) => {
    const key = `${request.method} ${new URL(request.url ?? "/", "http://x").pathname}`;
    const route = routes.find(([pattern]) => pattern.test(key));
    return (route ? route[1] : inner)(request, response, body);
  };
}

/** A manifest (and blobs) written by hand, for shapes buildImage would never make. */
function handMade(manifest: unknown, blobs: Map<string, Buffer> = new Map()): Image {
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { manifest: bytes, manifestDigest: sha256Digest(bytes), mediaType: OCI_MANIFEST, blobs };
}

const oneLine = (stderr: string) => stderr.split("\n").filter(Boolean).length === 1;

describe("a hostile registry", { skip: opensslUnavailable, timeout: 300_000 }, () => {
  let dir: string;
  let plugin: string;
  let image: Image;
  let tls: TlsFiles;
  let trustEnv: NodeJS.ProcessEnv;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwas-hostile-"));
    plugin = join(dir, "plugin.wasm");
    const wasm = pluginWasm("hostile");
    await writeFile(plugin, wasm);
    image = buildImage(wasm);
    tls = await makeTls();
    trustEnv = { NODE_EXTRA_CA_CERTS: tls.certPath };
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await removeTls(tls);
    await rm(dir, { recursive: true, force: true });
  });

  describe("credentials (issue 14 item 8)", () => {
    it("does not send them to an upload Location on another host", async () => {
      const elsewhere = await serve((_request, response) => response.writeHead(201).end());
      const registry = await serve(
        basicOnly(
          overriding(serveImage("team/f", image), [
            [/^HEAD /, (_q, r) => r.writeHead(404).end()],
            [/^POST \/v2\/team\/f\/blobs\/uploads\/$/, (_q, r) => r.writeHead(202, { location: `http://${elsewhere.otherHost}/upload/1` }).end()],
          ]),
        ),
      );
      const result = await runCli(CLI, ["push", plugin, `${registry.host}/team/f:v1`, "--plain-http", ...LOGIN]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(elsewhere.seen.length > 0, "the upload went to the other host");
      assert.deepEqual(elsewhere.seen.map((s) => s.authorization), elsewhere.seen.map(() => undefined));
      assert.ok(registry.seen.some((s) => s.authorization === BASIC), "the registry itself got them");
    });

    it("refuses when the other host then asks for them", async () => {
      const elsewhere = await serve((_q, r) => r.writeHead(401, { "www-authenticate": 'Basic realm="give"' }).end());
      const registry = await serve(
        basicOnly(
          overriding(serveImage("team/f", image), [
            [/^HEAD /, (_q, r) => r.writeHead(404).end()],
            [/^POST /, (_q, r) => r.writeHead(202, { location: `http://${elsewhere.otherHost}/upload/1` }).end()],
          ]),
        ),
      );
      const result = await runCli(CLI, ["push", plugin, `${registry.host}/team/f:v1`, "--plain-http", ...LOGIN]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`asked for credentials; it is not the registry ${registry.host}, so they are not sent there`));
      assert.ok(elsewhere.seen.every((s) => s.authorization === undefined));
    });

    it("does not send them to a token realm on another host over http", async () => {
      const tokens = await serve(tokenServer);
      const realm = `http://${tokens.otherHost}/token`;
      const registry = await serve(bearerOnly(realm, serveImage("team/f", image)));
      const result = await runCli(CLI, ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "x.wasm"), ...LOGIN]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `proxy-wasm-as pull: warning: --plain-http sends the credentials for ${registry.host} unencrypted; anyone on the path can read them\n` +
          `proxy-wasm-as pull: refusing to send the credentials for ${registry.host} to the token realm http://${tokens.otherHost} on another host: an http realm on another host is never trusted\n`,
      );
      assert.equal(tokens.seen.length, 0);
    });

    it("sends them to an https realm on another host only when trusted with --trust-token-realm", async () => {
      const tokens = await serve(tokenServer, tls);
      const realm = `https://${tokens.otherHost}/token`;
      const registry = await serve(bearerOnly(realm, serveImage("team/f", image)));
      const args = ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "t.wasm"), ...LOGIN];
      const untrusted = await runCli(CLI, args, trustEnv);
      assert.equal(untrusted.code, 1);
      assert.match(
        untrusted.stderr,
        new RegExp(`refusing to send the credentials for ${registry.host} to the token realm ${realm.replace("/token", "")} on another host: pass --trust-token-realm ${tokens.otherHost} if it is the registry's token server\\n$`),
      );
      assert.equal(tokens.seen.length, 0);
      const trusted = await runCli(CLI, [...args, "--trust-token-realm", tokens.otherHost], trustEnv);
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.ok(tokens.seen.length > 0 && tokens.seen.every((s) => s.authorization === BASIC));
    });

    it("uses a realm on the registry's own host without asking", async () => {
      let registry: HostileServer;
      registry = await serve((request, response, body) => {
        if (request.url?.startsWith("/token")) return tokenServer(request, response, body);
        return bearerOnly(`http://${registry.host}/token`, serveImage("team/f", image))(request, response, body);
      });
      const result = await runCli(CLI, ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "s.wasm"), ...LOGIN]);
      assert.equal(result.code, 0, result.stderr);
    });

    it("never downgrades an https registry to an http realm, even on the same host", async () => {
      const tokens = await serve(tokenServer);
      const registry = await serve(bearerOnly(`http://${tokens.host}/token`, serveImage("team/f", image)), tls);
      const result = await runCli(CLI, ["pull", `${registry.host}/team/f:v1`, "-o", join(dir, "d.wasm"), ...LOGIN], trustEnv);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `proxy-wasm-as pull: the registry ${registry.host} (https) names the plain-http token realm http://${tokens.host}; refusing to downgrade to http\n`,
      );
      assert.equal(tokens.seen.length, 0);
    });

    it("follows a blob redirect to another host without the credentials, and never from https to http", async () => {
      const layer = JSON.parse(image.manifest.toString()).layers[0].digest as string;
      const cdn = await serve((_q, r) => r.writeHead(200).end(image.blobs.get(layer)));
      const redirect: Handler = (_q, r) => r.writeHead(307, { location: `http://${cdn.otherHost}/blob` }).end();
      const plain = await serve(basicOnly(overriding(serveImage("team/f", image), [[/^GET \/v2\/team\/f\/blobs\/sha256:/, redirect]])));
      const pulled = await runCli(CLI, ["pull", `${plain.host}/team/f:v1`, "--plain-http", "-o", join(dir, "r.wasm"), ...LOGIN]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.ok(cdn.seen.length === 1 && cdn.seen[0].authorization === undefined);
      const secure = await serve(basicOnly(overriding(serveImage("team/f", image), [[/^GET \/v2\/team\/f\/blobs\/sha256:/, redirect]])), tls);
      const refused = await runCli(CLI, ["pull", `${secure.host}/team/f:v1`, "-o", join(dir, "r2.wasm"), ...LOGIN], trustEnv);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`the registry ${secure.host} \\(https\\) sent the client to http://${cdn.otherHost}; refusing to downgrade to http`));
      assert.equal(cdn.seen.length, 1);
    });

    it("stops after 5 redirects, and refuses a non-http Location", async () => {
      let loop: HostileServer;
      loop = await serve((request, response) => response.writeHead(302, { location: `http://${loop.host}${request.url}x` }).end());
      const looped = await runCli(CLI, ["inspect", `${loop.host}/team/f:v1`, "--plain-http"]);
      assert.equal(looped.code, 1);
      assert.equal(looped.stderr, `proxy-wasm-as inspect: ${loop.host} redirected more than 5 times\n`);
      const data = await serve(overriding(serveImage("team/f", image), [
        [/^GET \/v2\/team\/f\/manifests\//, (_q, r) => r.writeHead(302, { location: "data:application/json,{}" }).end()],
      ]));
      const refused = await runCli(CLI, ["inspect", `${data.host}/team/f:v1`, "--plain-http"]);
      assert.equal(refused.stderr, "proxy-wasm-as inspect: the registry sent the client to data: URL; only http and https are followed\n");
    });
  });

  describe("limits (issue 14 item 10)", () => {
    it("stops reading a manifest past 4 MiB, declared or streamed", async () => {
      const endless: Handler = (_q, response) => {
        response.writeHead(200, { "content-type": OCI_MANIFEST });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once("drain", pump);
        };
        response.on("close", () => response.removeAllListeners("drain"));
        pump();
      };
      const streamed = await serve(overriding(serveImage("team/f", image), [[/^GET \/v2\/team\/f\/manifests\//, endless]]));
      const result = await runCli(CLI, ["pull", `${streamed.host}/team/f:v1`, "--plain-http", "-o", join(dir, "m.wasm")]);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, "proxy-wasm-as pull: the manifest of team/f is more than the 4194304 bytes this client reads\n");
      const declared = await serve(overriding(serveImage("team/f", image), [
        [/^GET \/v2\/team\/f\/manifests\//, (_q, r) => { r.writeHead(200, { "content-length": String(300 * 1024 * 1024) }); r.write("{"); }],
      ]));
      const big = await runCli(CLI, ["inspect", `${declared.host}/team/f:v1`, "--plain-http"]);
      assert.equal(big.stderr, "proxy-wasm-as inspect: the manifest of team/f is 314572800 bytes, more than the 4194304 this client reads\n");
    });

    it("reads a blob only up to the size its descriptor gives", async () => {
      const manifest = JSON.parse(image.manifest.toString());
      const layer = manifest.layers[0];
      const huge = Buffer.alloc(50 * 1024 * 1024, 1);
      const registry = await serve(overriding(serveImage("team/f", image), [[new RegExp(`^GET /v2/team/f/blobs/${layer.digest}$`), (_q, r) => r.writeHead(200).end(huge)]]));
      const result = await runCli(CLI, ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "b.wasm")]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`blob ${layer.digest}, which its descriptor says is ${layer.size} bytes, is (${huge.length} bytes, )?more than the ${layer.size}`));
      assert.ok(oneLine(result.stderr));
    });

    it("refuses a descriptor digest that is not sha256:<hex> before it reaches a URL", async () => {
      const manifest = JSON.parse(image.manifest.toString());
      manifest.layers[0].digest = "sha256:../../../v2/other/manifests/x";
      const registry = await serve(serveImage("team/f", handMade(manifest, image.blobs)));
      const result = await runCli(CLI, ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "p.wasm")]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        'proxy-wasm-as pull: the manifest is malformed: layers[0].digest is "sha256:../../../v2/other/manifests/x", not sha256:<64 hex digits>\n',
      );
      assert.ok(registry.seen.every((s) => !s.path.includes("other")), registry.seen.map((s) => s.path).join(" "));
    });

    it("bounds decompression: a gzip bomb layer inflating to 1 GiB is read only up to Istio's limit, in little memory", async () => {
      // 1 GiB of zeros as 1,024 gzip members of 1 MiB each (about 1 MB in all), behind a tar header.
      const header = Buffer.from(createTar([{ name: "junk", data: Buffer.alloc(0) }]).subarray(0, 512));
      header.write("10000000000\0", 124, "latin1"); // size: 1 GiB
      header.fill(0x20, 148, 156);
      header.write((header.reduce((sum, byte) => sum + byte, 0)).toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
      const member = gzipSync(Buffer.alloc(1024 * 1024));
      const bomb = Buffer.concat([gzipSync(header), ...Array.from({ length: 1024 }, () => member)]);
      const bombDigest = sha256Digest(bomb);
      const config = Buffer.from("{}");
      const manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(config), size: config.length },
        layers: [{ mediaType: OCI_LAYER_TAR_GZIP, digest: bombDigest, size: bomb.length }],
      };
      const blobs = new Map([[bombDigest, bomb], [sha256Digest(config), config]]);
      const registry = await serve(serveImage("team/f", handMade(manifest, blobs)));
      const probe = join(dir, "maxrss.cjs");
      await writeFile(probe, 'process.on("exit", () => process.stderr.write("maxrss=" + process.resourceUsage().maxRSS + "\\n"));\n');
      const pull = ["pull", `${registry.host}/team/f:v1`, "--plain-http", "-o", join(dir, "bomb.wasm")];
      const result = await runCli(CLI, pull, { NODE_OPTIONS: `--require=${probe}` }, 60_000);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /as the compat variant: plugin\.wasm not found within Istio's limit of 268435456 decompressed bytes/);
      const maxRssMiB = Number(/maxrss=(\d+)/.exec(result.stderr)?.[1]) / 1024;
      assert.ok(maxRssMiB < 200, `peak memory ${maxRssMiB.toFixed(0)} MiB`);
    });

    it("bounds a token server's answer and refuses a token that would break a header", async () => {
      let registry: HostileServer;
      let answer: Handler = () => {};
      registry = await serve((request, response, body) => {
        if (request.url?.startsWith("/token")) return answer(request, response, body);
        return bearerOnly(`http://${registry.host}/token`, serveImage("team/f", image))(request, response, body);
      });
      answer = (_q, r) => r.writeHead(200, { "content-type": "application/json" }).end(`{"token":"${"a".repeat(1024 * 1024)}"}`);
      const bomb = await runCli(CLI, ["inspect", `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(bomb.stderr, `proxy-wasm-as inspect: the answer of the token server ${registry.host} is more than the 65536 bytes this client reads\n`);
      answer = (_q, r) => r.writeHead(200, { "content-type": "application/json" }).end('{"token":"good\\r\\nx-injected: 1"}');
      const crlf = await runCli(CLI, ["inspect", `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(crlf.stderr, `proxy-wasm-as inspect: the token server ${registry.host} answered with a token that is not printable ASCII\n`);
      answer = (_q, r) => r.writeHead(200).end("[[[[[[");
      const broken = await runCli(CLI, ["inspect", `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(broken.stderr, `proxy-wasm-as inspect: the token server ${registry.host} answered with something that is not JSON\n`);
    });

    it("gives up on a registry that trickles its answer or never answers, and on huge headers", async () => {
      const trickle: Handler = (_q, response) => {
        response.writeHead(200, { "content-type": OCI_MANIFEST });
        const timer = setInterval(() => response.write(" "), 100);
        response.on("close", () => clearInterval(timer));
      };
      const slow = await serve(overriding(serveImage("team/f", image), [[/^GET \/v2\/team\/f\/manifests\//, trickle]]));
      const trickled = await runCli(CLI, ["pull", `${slow.host}/team/f:v1`, "--plain-http", "--timeout", "1", "-o", join(dir, "s.wasm")]);
      assert.equal(trickled.code, 1);
      assert.equal(trickled.stderr, `proxy-wasm-as pull: the manifest of team/f: http://${slow.host} did not answer in time\n`);
      assert.ok(trickled.ms < 10_000, `${trickled.ms} ms`);
      const silent = await serve(() => {});
      const never = await runCli(CLI, ["inspect", `${silent.host}/team/f:v1`, "--plain-http", "--timeout", "1"]);
      assert.equal(never.stderr, `proxy-wasm-as inspect: http://${silent.host} did not answer in time\n`);
      const headers = await serve((_q, r) => r.writeHead(200, { "x-filler": "a".repeat(128 * 1024) }).end());
      const overflow = await runCli(CLI, ["inspect", `${headers.host}/team/f:v1`, "--plain-http"]);
      assert.equal(overflow.stderr, `proxy-wasm-as inspect: cannot reach http://${headers.host}: its response headers are too large\n`);
    });

    it("reads at most 64 KiB of an error body", async () => {
      const registry = await serve((_q, r) => r.writeHead(500, { "content-type": "application/json" }).end(`{"errors":[{"code":"X","message":"${"m".repeat(20 * 1024 * 1024)}"}]}`));
      const result = await runCli(CLI, ["inspect", `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(result.stderr, "proxy-wasm-as inspect: fetching the manifest failed: registry answered 500 Internal Server Error\n");
    });

    it("refuses a Docker-Content-Digest that is not a digest", async () => {
      const registry = await serve(overriding(serveImage("team/f", image), [
        [/^PUT \/v2\/team\/f\/manifests\//, (_q, r) => r.writeHead(201, { "docker-content-digest": "sha256:../../x" }).end()],
      ]));
      const result = await runCli(CLI, ["push", plugin, `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(result.stderr, `proxy-wasm-as push: the registry's Docker-Content-Digest has the digest "sha256:../../x", not sha256:<64 hex digits>\n`);
    });
  });

  describe("what the registry says (issue 14 item 11)", () => {
    it("escapes control characters of annotations, media types and error messages in human output", async () => {
      const manifest = JSON.parse(image.manifest.toString());
      manifest.annotations = { "org.opencontainers.image.title": "\u001b[2J\u001b[31mred\u001b[0m\u009b" };
      manifest.config.mediaType = "application/json\u001b]0;pwned\u0007";
      const registry = await serve(serveImage("team/f", handMade(manifest, image.blobs)));
      const result = await runCli(CLI, ["inspect", `${registry.host}/team/f:v1`, "--plain-http"]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      assert.match(result.stdout, /annotation: org\.opencontainers\.image\.title=\\x1b\[2J\\x1b\[31mred\\x1b\[0m\\x9b/);
      assert.match(result.stdout, /config:    application\/json\\x1b\]0;pwned\\x07 sha256:/);
      const failing = await serve((_q, r) => r.writeHead(500, { "content-type": "application/json" }).end('{"errors":[{"code":"X","message":"\\u001b[31mboom"}]}'));
      const error = await runCli(CLI, ["inspect", `${failing.host}/team/f:v1`, "--plain-http"]);
      assert.equal(error.stderr, "proxy-wasm-as inspect: fetching the manifest failed: registry answered 500 Internal Server Error (X: \\x1b[31mboom)\n");
    });

    it("gives a one-line reason for a malformed manifest, never a JavaScript error", async () => {
      const cases: [unknown, string][] = [
        [{ schemaVersion: 2, layers: "x" }, 'the manifest is malformed: layers is "x", not a list'],
        [{ schemaVersion: 2, layers: [null] }, "the manifest is malformed: layers[0] is null, not a descriptor object"],
        [{ schemaVersion: 2, layers: [{ digest: sha256Digest(Buffer.alloc(1)), size: -1 }] }, "the manifest is malformed: layers[0].size is -1, not a byte count"],
        [{ schemaVersion: 2, config: 7, layers: [] }, "the manifest is malformed: config is 7, not a descriptor object"],
        [{ schemaVersion: 2, layers: [], annotations: { a: 1 } }, "the manifest is malformed: annotations is not an object of strings"],
        [{ schemaVersion: 1, name: "x" }, "the manifest is a Docker schema 1 manifest, which Istio does not read"],
        [[1, 2], "the manifest is malformed: it is [1,2], not a JSON object"],
        ["{", "the manifest is not JSON"],
      ];
      // The CLI runs are independent: four at a time keeps the suite's time down on a busy machine.
      const runs = cases.flatMap(([document, reason], n) =>
        ["pull", "inspect"].map((command) => async () => {
          const bytes = typeof document === "string" ? Buffer.from(document) : Buffer.from(JSON.stringify(document));
          const malformed = imageFromManifest({ schemaVersion: 2, layers: [] }, new Map());
          const registry = await serve(serveImage("team/f", { ...malformed, manifest: bytes, manifestDigest: sha256Digest(bytes) }));
          const output = ["-o", join(dir, `q${n}.wasm`)];
          const args = [command, `${registry.host}/team/f:v1`, "--plain-http", ...(command === "pull" ? output : [])];
          const result = await runCli(CLI, args, {}, 120_000);
          assert.equal(result.code, 1, result.stderr);
          assert.equal(result.stderr, `proxy-wasm-as ${command}: ${reason}\n`);
        }),
      );
      for (let i = 0; i < runs.length; i += 4) await Promise.all(runs.slice(i, i + 4).map((run) => run()));
    });
  });
});
